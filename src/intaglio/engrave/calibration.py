"""Calibration job kinds: engrave.card makes a material test card for a material, machine, mode and line interval,
as four files (PNG with DPI, G-code, SVG and card.json; docs/card-format.md); engrave.card_read reads a photo of
the burned card against those files."""

from __future__ import annotations

from intaglio.assets.models import AssetKind
from intaglio.engrave.params import CardSettings
from intaglio.imaging.calibration import CardError, CardRefused, make_card, read_card
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
            calibration=settings.calibration.engine_calibration() if settings.calibration else None,
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


def card_read(ctx) -> None:
    """Inputs: the photo (an upload) and the card's card.json and PNG (outputs of its engrave.card job). The result
    is the reading; a photo that cannot be read fails the job with the reason, and nothing is kept of it."""
    by_role = {asset.role: asset for asset in ctx.inputs}
    layout_file, png_file, photo = by_role.get("card-json"), by_role.get("png"), by_role.get("")
    if not (layout_file and png_file and photo):
        raise PermanentJobError("A card reading takes the photo and the card's card.json and PNG.")
    ctx.progress(5)
    try:
        reading = read_card(ctx.read_input(photo), ctx.read_input(layout_file), card_png=ctx.read_input(png_file))
    except CardRefused as refused:
        raise PermanentJobError(refused.message) from None
    ctx.progress(90)
    # The same JSON `intaglio calibrate read --json` prints (tone and tone_error included).
    ctx.save_result(reading.as_json())


register(JobKind(name="engrave.card", label="Material test card", run=card, params=CardSettings))
register(JobKind(name="engrave.card_read", label="Test card reading", run=card_read, inputs_min=3, inputs_max=3))
