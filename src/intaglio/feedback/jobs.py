"""The feedback.burn_photo job kind: a photo of a finished piece aligned to its version's simulated burn and
measured (E9). Its pictures are private feedback on the photo's clock; with `derived_only` consent its scalar
results are also kept as derived metrics (E7, E8)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from intaglio.assets.models import Asset, AssetKind, RetentionClass
from intaglio.engrave.params import ArtworkSettings
from intaglio.feedback.models import BurnReport
from intaglio.imaging import reserve_decode
from intaglio.imaging.artwork import get_material
from intaglio.imaging.calibration import BurnPhotoRefused, read_burn_photo
from intaglio.jobs.kinds import JobKind, register
from intaglio.jobs.runner import PermanentJobError
from intaglio.privacy.metrics import MetricRefused, metric_record

# The report's numbers kept as derived metrics under derived_only (each one a key of privacy.metrics.METRICS).
KEPT_METRICS = (
    "mark_gain_mm",
    "tone_error_shadows",
    "tone_error_midtones",
    "tone_error_highlights",
    "contrast_achieved",
    "sharpness",
    "registration_rms_px",
)


def _decode(data: bytes, mode: str) -> np.ndarray:
    # Priced from the header and held from the worker's image budget: the decode, its conversion and the array.
    with reserve_decode(data, into=[mode, f"uint8x{len(mode)}"]), Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert(mode))


def burn_photo(ctx) -> None:
    report = BurnReport.objects.select_related("version", "photo").filter(job=ctx.job).first()
    if report is None:
        raise PermanentJobError("This report was deleted before it was measured.")
    by_role = {asset.role: asset for asset in ctx.inputs}
    photo, burn_png, preview = by_role.get(""), by_role.get("png"), by_role.get("burn-preview")
    if not (photo and burn_png and preview):
        raise PermanentJobError("The version's files are gone, so there is nothing to compare the photo with.")
    settings = ArtworkSettings.model_validate(report.version.settings, strict=False)
    ctx.progress(5)
    try:
        measured = read_burn_photo(
            ctx.read_input(photo),
            burn=_decode(ctx.read_input(burn_png), "L") < 128,
            simulated=_decode(ctx.read_input(preview), "RGB"),
            px_mm=settings.line_interval(),
            mark_diameter_mm=settings.mark_diameter_mm(),
            polarity=get_material(settings.material).polarity,
        )
    except BurnPhotoRefused as refused:
        raise PermanentJobError(refused.message) from None
    ctx.progress(85)
    pictures = [
        ("side-by-side", measured.side_by_side_png(), "how-it-burned.png"),
        ("difference", measured.difference_png(), "how-it-burned-difference.png"),
    ]
    saved = [
        ctx.save_output(kind=AssetKind.ENGRAVED_RESULT, role=role, data=data, mime="image/png", download_name=name)
        for role, data, name in pictures
    ]
    # The pictures show the photo, so they keep its clock (and follow it when engraved_learning changes).
    Asset.objects.filter(pk__in=[asset.pk for asset in saved]).update(expires_at=report.photo.expires_at)
    report.metrics = measured.metrics()
    report.advice = list(measured.advice)
    report.save(update_fields=["metrics", "advice"])
    for key in KEPT_METRICS:
        if key not in report.metrics:
            continue
        try:
            metric_record(owner=report.owner, key=key, value=report.metrics[key], source_asset=photo)
        except MetricRefused as refused:
            if refused.code in ("no_consent", "restricted"):
                break  # without derived_only (the default) nothing outlives the photo


register(
    JobKind(
        name="feedback.burn_photo",
        label="How did it burn?",
        run=burn_photo,
        inputs_min=3,
        inputs_max=3,
        output_retention=RetentionClass.PRIVATE_FEEDBACK,
    )
)
