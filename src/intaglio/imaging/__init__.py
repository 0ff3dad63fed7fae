"""Pure imaging algorithms: bytes and numpy arrays in, numpy arrays and bytes out.

Nothing here imports Django or the rest of ``intaglio`` (DESIGN.md, "Layout"), so it can be reused on its own.
"""

__all__ = ["ArtworkError", "PreparedArtwork", "check_fit", "prepare_artwork"]


def __getattr__(name: str):
    # Imported on first use: the artwork engine pulls in OpenCV and numba, which a web process may never need.
    if name in __all__:
        from intaglio.imaging import artwork

        return getattr(artwork, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
