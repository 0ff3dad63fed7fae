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
    web = render_rendition(image, longest_edge=WEB_PREVIEW_EDGE, quality=85)
    ctx.progress(70)
    thumb = render_rendition(image, longest_edge=THUMBNAIL_EDGE, quality=82)
    ctx.progress(90)
    ctx.save_output(
        kind=AssetKind.PREVIEW,
        role="web",
        data=web.data,
        mime=web.mime,
        width=web.width,
        height=web.height,
        download_name=f"{stem}-preview.jpg",
    )
    ctx.save_output(
        kind=AssetKind.PREVIEW,
        role="thumbnail",
        data=thumb.data,
        mime=thumb.mime,
        width=thumb.width,
        height=thumb.height,
        download_name=f"{stem}-thumbnail.jpg",
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
