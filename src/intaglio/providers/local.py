"""The offline defaults: analysis and generation that run here, with nothing sent anywhere."""

from __future__ import annotations

from intaglio.imaging.jewellery import analyse_references, render_packshot
from intaglio.providers.attributes import Attributes
from intaglio.providers.base import GenerationRequest, ReferenceImage


class LocalAnalysis:
    name = "local"
    model = "intaglio-colour-shape/1"

    def analyse(self, images: list[ReferenceImage]) -> dict:
        return Attributes.model_validate(analyse_references([image.data for image in images])).model_dump()


class LocalGeneration:
    """A deterministic studio packshot of the piece itself, recoloured for metal variants (stones untouched)."""

    name = "local"
    model = "intaglio-packshot/1"
    asynchronous = False

    def render(self, request: GenerationRequest) -> tuple[bytes, str]:
        data = render_packshot(
            [reference.data for reference in request.references],
            aspect_ratio=request.aspect_ratio,
            metal=request.metal,
            backdrop=request.backdrop,
            seed=request.seed,
            zoom=request.zoom,
        )
        return data, "image/jpeg" if data[:2] == b"\xff\xd8" else "image/png"
