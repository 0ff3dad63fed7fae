"""Pure imaging algorithms: bytes and numpy arrays in, numpy arrays and bytes out.

Nothing here imports Django or the rest of ``intaglio`` (DESIGN.md, "Layout"), so it can be reused on its own.
"""
