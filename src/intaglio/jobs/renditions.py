"""The job kind "preview" that makes an upload's renditions: a thumbnail and a web-sized picture of every photo.

It lives with the jobs because it is one: the assets layer below knows nothing of the queue."""

from __future__ import annotations

from pathlib import PurePath

from intaglio.assets.models import AssetKind, RetentionClass
from intaglio.imaging import THUMBNAIL_EDGE, WEB_PREVIEW_EDGE, open_clean_image, render_rendition
from intaglio.jobs.kinds import JobKind, register


def make_previews(ctx) -> None:
    (source,) = ctx.inputs
    image = open_clean_image(ctx.read_input(source))
    ctx.progress(30)
    stem = PurePath(source.download_name).stem
    # Each rendition: its role, longest edge, JPEG quality, name suffix, and progress once it is made.
    made = []
    for role, edge, quality, suffix, done in (
        ("web", WEB_PREVIEW_EDGE, 85, "preview", 70),
        ("thumbnail", THUMBNAIL_EDGE, 82, "thumbnail", 90),
    ):
        made.append((role, suffix, render_rendition(image, longest_edge=edge, quality=quality)))
        ctx.progress(done)
    for role, suffix, rendition in made:
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
