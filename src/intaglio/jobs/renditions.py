"""The job kind "preview" that makes an upload's renditions: a thumbnail and a web-sized picture of every photo.

It lives with the jobs because it is one: the assets layer below knows nothing of the queue."""

from __future__ import annotations

from pathlib import PurePath

from intaglio.assets.models import AssetKind, RetentionClass
from intaglio.imaging import THUMBNAIL_EDGE, WEB_PREVIEW_EDGE, render_renditions
from intaglio.jobs.kinds import JobKind, register

# Each rendition: its role, longest edge, JPEG quality and name suffix.
RENDITIONS = (
    ("web", WEB_PREVIEW_EDGE, 85, "preview"),
    ("thumbnail", THUMBNAIL_EDGE, 82, "thumbnail"),
)


def make_previews(ctx) -> None:
    (source,) = ctx.inputs
    data = ctx.read_input(source)
    ctx.progress(30)
    stem = PurePath(source.download_name).stem
    # One decode for both, under the worker's image memory budget.
    renditions = render_renditions(data, [(edge, quality) for _, edge, quality, _ in RENDITIONS])
    ctx.progress(90)
    for (role, _, _, suffix), rendition in zip(RENDITIONS, renditions, strict=True):
        ctx.save_output(
            kind=AssetKind.PREVIEW,
            role=role,
            data=rendition.data,
            mime=rendition.mime,
            width=rendition.width,
            height=rendition.height,
            download_name=f"{stem}-{suffix}.jpg",
        )


register(
    JobKind(
        name="preview",
        label="Preview",
        run=make_previews,
        inputs_min=1,
        inputs_max=1,
        counts_toward_plan_limit=False,
        output_retention=RetentionClass.PRIVATE_UPLOAD,
    )
)
