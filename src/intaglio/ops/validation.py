"""Turning a pydantic ValidationError into one sentence a person can act on (each field named by its path)."""

from __future__ import annotations

import pydantic


def validation_problems(invalid: pydantic.ValidationError, *, whole: str = "settings") -> str:
    """ "width_mm: Input should be greater than 0; adjustments.gamma: …"; `whole` names an error on the object."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or whole}: {e['msg']}" for e in invalid.errors())
