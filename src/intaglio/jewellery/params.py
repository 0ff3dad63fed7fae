"""The parameters of the jewellery job kinds. A generation job keeps everything that made its images (J3): the
confirmed attributes, preset, aspect ratio, template version, provider, model, and each image's prompt and seed."""

from __future__ import annotations

from typing import Literal

import pydantic

from intaglio.imaging.jewellery import vocabulary
from intaglio.jewellery.prompts import ANGLES, ASPECT_RATIOS, PRESETS, SHADOWS
from intaglio.providers.attributes import Attributes

Preset = Literal[tuple(PRESETS)]  # type: ignore[valid-type]
AspectRatio = Literal[ASPECT_RATIOS]  # type: ignore[valid-type]
Angle = Literal[tuple(ANGLES)]  # type: ignore[valid-type]
Shadow = Literal[tuple(SHADOWS)]  # type: ignore[valid-type]
VariantMetal = Literal[vocabulary.VARIANT_METALS]  # type: ignore[valid-type]

MAX_VARIANTS = 4
MAX_IMAGES = 12


class _Strict(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")


class AnalyseParams(_Strict):
    provider: str = pydantic.Field(max_length=20)


class Brief(_Strict):
    """What the user chooses on the generate form."""

    preset: Preset = "white_packshot"
    aspect_ratio: AspectRatio = "1:1"
    angle: Angle = "as_reference"
    shadow: Shadow = "soft"
    variants: int = pydantic.Field(default=1, ge=1, le=MAX_VARIANTS)
    # Metal colours to show the piece in; empty = as analysed.
    metals: list[VariantMetal] = pydantic.Field(
        default_factory=list, max_length=len(vocabulary.VARIANT_METALS), json_schema_extra={"uniqueItems": True}
    )

    @pydantic.field_validator("metals")
    @classmethod
    def _distinct(cls, metals: list[str]) -> list[str]:
        if len(set(metals)) != len(metals):
            raise ValueError("each metal colour once")
        return metals

    @property
    def image_count(self) -> int:
        return self.variants * max(1, len(self.metals))


class ImagePlan(_Strict):
    index: int = pydantic.Field(ge=0, lt=MAX_IMAGES)
    metal: VariantMetal | None
    seed: int = pydantic.Field(ge=0, lt=2**31)
    prompt: str = pydantic.Field(min_length=20, max_length=2000)


class GenerateParams(Brief):
    piece_id: int
    attributes: Attributes
    template_version: str = pydantic.Field(max_length=60)
    provider: str = pydantic.Field(max_length=20)
    model: str = pydantic.Field(max_length=100)
    images: list[ImagePlan] = pydantic.Field(min_length=1, max_length=MAX_IMAGES)
    # The design check (its id) of a flagged image this generation makes again, free of charge; None otherwise.
    regenerates: int | None = None

    @pydantic.model_validator(mode="after")
    def _one_plan_per_image(self):
        if len(self.images) != self.image_count:
            raise ValueError(f"{self.image_count} images were asked for but {len(self.images)} are planned")
        if [image.index for image in self.images] != list(range(len(self.images))):
            raise ValueError("images must be numbered 0, 1, 2, …")
        return self


def generate_units(params: dict) -> int:
    """Credits are charged per image; the one free regeneration of a flagged image costs nothing."""
    if params.get("regenerates") is not None:
        return 0
    return len(params["images"])
