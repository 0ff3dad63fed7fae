"""The community gallery: finished work its owners chose to publish, each with its recipe (material, machine, mode,
interval, power, speed and passes). Reading is public and needs no credentials; publishing and unpublishing are the
owner's. An unpublished item, or one a moderator hid, is gone from every read at once.
"""

# No `from __future__ import annotations` here: @paginate resolves the list operation's signature in this module.
from datetime import datetime
from typing import Annotated

from django.urls import reverse
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from intaglio.api.errors import ApiError, ErrorOut
from intaglio.api.pagination import Paginated
from intaglio.api.schemas import StrictIn
from intaglio.engrave.selectors import artwork_version_get
from intaglio.gallery import selectors, services
from intaglio.gallery.models import GalleryItem

router = Router(tags=["gallery"])


class GalleryPictureOut(Schema):
    role: str = Field(description="artwork, burn_preview (the simulated burn), photo (of the real burn) or source.")
    url: str = Field(description="Where the picture is served while the item is published (no metadata in it).")
    width: int
    height: int


class GalleryRecipeOut(Schema):
    material: str = Field(description="A material of GET /engrave/materials.")
    machine: str | None = Field(description="A library machine; null for the owner's own machine (not named).")
    machine_kind: str = Field(description="diode, co2 or fiber.")
    mode: str | None = Field(description="The halftone or line mode.")
    line_interval_mm: float | None
    width_mm: float | None
    power_pct: float | None = Field(description="Power it was burned with; null: the material's suggestion.")
    speed_mm_min: float | None = Field(description="Speed it was burned with; null: the material's suggestion.")
    passes: int | None = Field(description="Passes it was burned with; null: the material's suggestion.")
    calibrated: bool = Field(description="Whether it was made with a calibration of the owner's own card.")


class GalleryEntryOut(Schema):
    public_id: str
    title: str
    story: str
    material: str
    machine_kind: str
    published_at: datetime
    page_url: str = Field(description="The item's public page.")
    recipe: GalleryRecipeOut
    pictures: list[GalleryPictureOut]

    @staticmethod
    def resolve_page_url(item: GalleryItem) -> str:
        return reverse("gallery-item", args=[item.public_id])

    @staticmethod
    def resolve_recipe(item: GalleryItem) -> dict:
        return services.recipe_public(item.recipe)

    @staticmethod
    def resolve_pictures(item: GalleryItem) -> list[dict]:
        return [
            {
                "role": image.role,
                "url": reverse("gallery-picture", args=[item.public_id, image.public_id]),
                "width": image.asset.width or 0,
                "height": image.asset.height or 0,
            }
            for image in item.images.all()
        ]


class GalleryPublishIn(StrictIn):
    artwork_id: int = Field(ge=1, le=2**31 - 1, description="One of your artworks.")
    version: int = Field(ge=1, le=2**31 - 1, description="The number of its finished version to publish.")
    title: str = Field(min_length=1, max_length=services.TITLE_MAX)
    story: str = Field("", max_length=services.STORY_MAX)
    include_source: bool = Field(False, description="Also show the photo the artwork was made from.")
    report_photo_ids: list[int] = Field(
        default_factory=list, max_length=services.PHOTOS_MAX,
        description="Photos of the real burn: asset ids of photos on this version's burn reports.",
    )  # fmt: skip


@router.get(
    "/gallery/items",
    response=list[GalleryEntryOut],
    auth=None,
    summary="The gallery, newest first (public)",
    description="Every published item shown now, optionally of one `material` and one `machine_kind`. No credentials.",
)
@paginate(Paginated)
def list_gallery(
    request,
    material: Annotated[str, Field(max_length=40, description="Only items on this material.")] | None = None,
    machine_kind: Annotated[str, Field(max_length=10, description="Only items for diode, co2 or fiber.")] | None = None,
):
    return selectors.gallery_list(material=material or "", machine_kind=machine_kind or "")


@router.get(
    "/gallery/items/{public_id}",
    response={200: GalleryEntryOut},
    auth=None,
    summary="One published item with its recipe (public)",
    description="404 once its owner unpublished it or a moderator hid it. No credentials.",
)
def get_gallery_item(request, public_id: str):
    item = selectors.gallery_item_for(public_id=public_id, viewer=None)
    if item is None:
        raise ApiError(404, "not_found", "No such item in the gallery.")
    return item


@router.post(
    "/gallery/items",
    response={201: GalleryEntryOut, 409: ErrorOut},
    summary="Publish a finished version of your artwork",
    description=(
        "Publishes the version's artwork and simulated burn, with the burn-report photos named and the source photo "
        "if asked; pictures are copies without metadata. Records the gallery_publish consent. 409: not finished, or "
        "already published. 403 quota_exceeded: the copies do not fit in your storage."
    ),
)
def publish_gallery_item(request, payload: GalleryPublishIn):
    version = artwork_version_get(owner=request.auth, artwork_id=payload.artwork_id, number=payload.version)
    if version is None:
        raise ApiError(404, "not_found", "No such version among yours.")
    item = services.gallery_publish(
        owner=request.auth, version=version, title=payload.title, story=payload.story,
        include_source=payload.include_source, report_photo_ids=payload.report_photo_ids,
    )  # fmt: skip
    return Status(201, item)


@router.delete(
    "/gallery/items/{public_id}",
    response={204: None},
    summary="Take one of your items out of the gallery",
    description="At once: its page, its pictures and this API answer 404 from now on; its copies are deleted.",
)
def unpublish_gallery_item(request, public_id: str):
    item = selectors.gallery_owned_get(owner=request.auth, public_id=public_id)
    if item is None:
        raise ApiError(404, "not_found", "No such item among yours.")
    services.gallery_unpublish(item=item, actor=request.auth, source="api")
    return Status(204, None)
