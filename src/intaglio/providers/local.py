"""The offline defaults: analysis and generation that run here, with nothing sent anywhere."""

from __future__ import annotations

from intaglio.imaging.jewellery import analyse_references, render_packshot
from intaglio.providers.attributes import Attributes
from intaglio.providers.base import GenerationRequest, ProviderRefused, ReferenceImage, Rendered


class LocalAnalysis:
    name = "local"
    model = "intaglio-colour-shape/1"

    def analyse(self, images: list[ReferenceImage]) -> dict:
        return Attributes.model_validate(analyse_references([image.data for image in images])).model_dump()


class LocalGeneration:
    """A deterministic studio packshot of the piece itself on white, recoloured for metal variants (stones
    untouched). It stages nothing else: a model wearing the piece or a lifestyle set needs an image service."""

    name = "local"
    model = "intaglio-packshot/2"
    asynchronous = False
    stagings = ("studio",)

    def render(self, request: GenerationRequest) -> Rendered:
        if request.staging not in self.stagings:
            raise ProviderRefused("Intaglio's own renderer makes studio shots only; this style needs an image service.")
        shot = render_packshot(
            [reference.data for reference in request.references],
            aspect_ratio=request.aspect_ratio,
            metal=request.metal,
            seed=request.seed,
            zoom=request.zoom,
            shadow=request.shadow,
        )
        return Rendered(shot.data, "image/jpeg", shot.enlargement)
