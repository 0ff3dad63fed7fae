"""Jewellery imaging: the local analyser (reference images → attributes) and the local packshot renderer.

Pure (numpy, OpenCV, Pillow): nothing here imports Django or the rest of ``intaglio`` (DESIGN.md, "Layout").

The analyser (``analysis``), the renderer (``packshot``) and the words both answer in (``vocabulary``) are reached
through this package: ``from intaglio.imaging.jewellery import analyse_references, render_packshot, vocabulary``
(the words are ``vocabulary.METALS`` and so on). The design-preservation check of generated images
(``preservation``: `check_preservation`) is reached the same way."""

from intaglio.imaging.jewellery import analysis, packshot, preservation, vocabulary
from intaglio.imaging.jewellery.analysis import *  # noqa: F403  the names analysis.__all__ lists
from intaglio.imaging.jewellery.packshot import *  # noqa: F403  the names packshot.__all__ lists
from intaglio.imaging.jewellery.preservation import *  # noqa: F403  the names preservation.__all__ lists

__all__ = [*analysis.__all__, *packshot.__all__, "vocabulary"]
__all__ += preservation.__all__  # the design-preservation check of generated images
