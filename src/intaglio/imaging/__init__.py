"""Pure imaging algorithms: bytes and numpy arrays in, numpy arrays and bytes out.

Nothing here imports Django or the rest of ``intaglio`` (DESIGN.md, "Layout"), so it can be reused on its own.

The upload names (`ingest_image` and friends, from ``ingest``), the rendition names (`render_rendition` and friends,
from ``previews``) and the memory budget every decode draws from (`image_memory_bytes`, `reserve_image_memory` and
friends, from ``memory``) are imported with the package: they need only Pillow. The artwork engine names
(`PreparedArtwork`, `ArtworkError`, `prepare_artwork`, `check_fit`) are imported on first use. Jewellery
imaging lives in the ``intaglio.imaging.jewellery`` subpackage.
"""

from intaglio.imaging.ingest import (
    ACCEPTED_FORMATS,
    ACCEPTED_HUMAN,
    IngestedImage,
    IngestError,
    IngestLimits,
    encode_jpeg,
    file_size_label,
    identify_non_image,
    ingest_image,
    ingest_memory_bytes,
    sniff_format,
)
from intaglio.imaging.memory import (
    DEFAULT_IMAGE_MEMORY_BYTES,
    ImageHeader,
    ImageMemoryBudget,
    ImageMemoryBusy,
    ImageMemoryRefused,
    configure_image_memory,
    cv2_decode_bytes,
    decode_memory_bytes,
    image_header,
    image_memory_budget,
    image_memory_bytes,
    reserve_decode,
    reserve_image_memory,
)
from intaglio.imaging.previews import (
    THUMBNAIL_EDGE,
    WEB_PREVIEW_EDGE,
    Rendition,
    open_clean_image,
    render_rendition,
    render_renditions,
    rendition_size,
)
from intaglio.imaging.provenance import (
    COMPOSITE_SYNTHETIC,
    TRAINED_ALGORITHMIC_MEDIA,
    with_source_type,
)

# Imported on first use (see __getattr__).
_LAZY = ["ArtworkError", "PreparedArtwork", "check_fit", "prepare_artwork"]

__all__ = [
    "ACCEPTED_FORMATS",
    "DEFAULT_IMAGE_MEMORY_BYTES",
    "ImageHeader",
    "ImageMemoryBudget",
    "ImageMemoryBusy",
    "ImageMemoryRefused",
    "configure_image_memory",
    "cv2_decode_bytes",
    "decode_memory_bytes",
    "image_header",
    "image_memory_budget",
    "image_memory_bytes",
    "ingest_memory_bytes",
    "reserve_decode",
    "reserve_image_memory",
    "ACCEPTED_HUMAN",
    "THUMBNAIL_EDGE",
    "WEB_PREVIEW_EDGE",
    "IngestError",
    "IngestLimits",
    "IngestedImage",
    "encode_jpeg",
    "file_size_label",
    "Rendition",
    "identify_non_image",
    "ingest_image",
    "open_clean_image",
    "render_rendition",
    "render_renditions",
    "rendition_size",
    "sniff_format",
    "COMPOSITE_SYNTHETIC",
    "TRAINED_ALGORITHMIC_MEDIA",
    "with_source_type",
    *_LAZY,
]


def __getattr__(name: str):
    # Imported on first use: the artwork engine pulls in OpenCV and numba, which a web process may never need.
    if name in _LAZY:
        from intaglio.imaging import artwork

        return getattr(artwork, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
