"""The one refusal error family, the one JSON error body of the API and the web, and turning a pydantic
ValidationError into one sentence a person can act on.

Every domain app refuses with a subclass of `Refused`; the API turns any of them into its error body in one
handler (api/errors.py) and the web into a message on the page in one place (web/refusals.py).
"""

from __future__ import annotations

from typing import ClassVar

import pydantic


class Refused(Exception):
    """A request we will not carry out. `message` is written for the person who made it, `code` is stable for
    programs, and `status` is the HTTP answer (404 not yours, 409 conflict, 413 too large, 422 not valid, …).

    A subclass may map its codes to statuses in `statuses`; otherwise the status is given or 422."""

    statuses: ClassVar[dict[str, int]] = {}

    def __init__(self, code: str, message: str, *, status: int | None = None, detail: str = ""):
        super().__init__(message)
        self.code, self.message, self.detail = code, message, detail
        self.status = status or self.statuses.get(code, 422)


def validation_problems(invalid: pydantic.ValidationError, *, whole: str = "settings") -> str:
    """ "width_mm: Input should be greater than 0; adjustments.gamma: …"; `whole` names an error on the object."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or whole}: {e['msg']}" for e in invalid.errors())


def error_body(request, *, code: str, message: str, details=None) -> dict:
    """The one error body (the API's ErrorOut): every JSON error of the API and the web has this shape."""
    return {
        "error": {"code": code, "message": message, "details": details or []},
        "request_id": getattr(request, "id", None),
    }
