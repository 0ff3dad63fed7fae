"""The engrave studio's refusal."""

from __future__ import annotations

from intaglio.core.errors import Refused


class StudioRefused(Refused):
    """A studio request we will not carry out."""
