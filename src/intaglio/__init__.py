"""Intaglio: photos into laser-ready artwork and jewellery imagery."""

__version__ = "0.1.0"
