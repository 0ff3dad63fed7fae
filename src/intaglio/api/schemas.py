"""What every request body and header of the API is held to, in one place, so the server and its OpenAPI document
say the same thing.

- A JSON body is an object: ``[1, 2]``, ``5`` or ``null`` is refused with 422 (``ObjectBodyParser``), never read as
  ``{}``. Parsing happens after authentication, so a request without credentials still gets 401. A number with no
  fraction (``348.0``) is an integer, as JSON Schema says.
- Input schemas derive from ``StrictIn``: a value is taken as its JSON type says (0 is not false, "1" is not 1) and
  an unknown field is refused with 422 (``additionalProperties: false`` in the document).
- ``IdempotencyKey`` is the one header constraint of every creating operation that takes one.
"""

from __future__ import annotations

import json
from typing import Annotated

import pydantic
from ninja import Header, Schema
from ninja.errors import ValidationError
from ninja.parser import Parser

IDEMPOTENCY_KEY_MAX = 100
# Visible ASCII, no spaces: what a header carries unchanged through every proxy.
IDEMPOTENCY_KEY_PATTERN = r"^[!-~]+$"

IdempotencyKey = Annotated[
    str | None,
    Header(
        None,
        alias="Idempotency-Key",
        min_length=1,
        max_length=IDEMPOTENCY_KEY_MAX,
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description=(
            f"1 to {IDEMPOTENCY_KEY_MAX} visible ASCII characters (no spaces). A retry with the same key returns what "
            "the first request made."
        ),
    ),
]

# The id of one of the account's records inside a JSON body: a database integer, so a number past 64 bits is refused
# as invalid (422) rather than reaching the database.
RecordId = Annotated[int, pydantic.Field(ge=1, le=2**63 - 1)]


class StrictIn(Schema):
    """A request body is taken as its JSON types say (0 is not false, "1" is not 1) and names only known fields."""

    model_config = pydantic.ConfigDict(strict=True, extra="forbid")


class ObjectBodyParser(Parser):
    """Reads a JSON body and refuses any that is not an object.

    ninja turns every error raised here into a 400 "Cannot parse request body"; the API's error handler answers a
    ``ValidationError`` among its causes as the 422 it is (see errors.install_error_handlers).
    """

    def parse_body(self, request):
        data = json.loads(request.body, parse_float=_json_number)
        if not isinstance(data, dict):
            raise ValidationError(
                [
                    {
                        "loc": ("body",),
                        "msg": f"The body must be a JSON object ({{…}}), not {_json_kind(data)}.",
                        "type": "object_type",
                    }
                ]
            )
        return data


def _json_number(text: str) -> int | float:
    # JSON Schema's "integer" includes 348.0; strict validation would refuse the float for an integer field. A float
    # field takes the int as it is.
    number = float(text)
    return int(number) if number.is_integer() else number


def _json_kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array"
