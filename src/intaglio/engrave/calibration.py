"""The engrave.card job kind: a material test card for a material, machine, mode and line interval, as four files
(PNG with DPI, G-code, SVG and card.json; docs/card-format.md)."""

from __future__ import annotations

from intaglio.assets.models import AssetKind
from intaglio.engrave.params import CardSettings
from intaglio.imaging.calibration import CardError, make_card
from intaglio.jobs.kinds import JobKind, register
from intaglio.jobs.runner import PermanentJobError


def card(ctx) -> None:
    settings = CardSettings.model_validate(ctx.params)
    try:
        made = make_card(
            material=settings.material,
            machine=settings.engine_machine(),
            mode=settings.mode,
            line_interval_mm=settings.line_interval_mm,
            card_id=settings.card_id,
        )
    except CardError as refused:
        raise PermanentJobError(str(refused)) from None
    ctx.progress(40)
    stem = f"card-{made.layout['card_id']}-{settings.material}"
    files = [
        ("png", made.png, "image/png", f"{stem}.png"),
        ("gcode", lambda: made.gcode().encode(), "text/plain", f"{stem}.gcode"),
        ("svg", lambda: made.svg().encode(), "image/svg+xml", f"{stem}.svg"),
        ("card-json", lambda: made.json().encode(), "application/json", f"{stem}.json"),
    ]
    rendered = []
    for step, (role, render, mime, name) in enumerate(files, 1):
        rendered.append((role, render(), mime, name))
        ctx.progress(40 + 55 * step // len(files))
    # Stored only once all four exist, so a failure half-way leaves no partial set behind.
    height, width = made.burn.shape
    for role, data, mime, name in rendered:
        pixels = {"width": width, "height": height} if mime == "image/png" else {}
        ctx.save_output(kind=AssetKind.ARTWORK, role=role, data=data, mime=mime, download_name=name, **pixels)


register(JobKind(name="engrave.card", label="Material test card", run=card, params=CardSettings))
