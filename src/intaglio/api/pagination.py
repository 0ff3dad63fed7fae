"""The one pagination for list operations: limit (1–100, default 20) and offset, both bounded."""

from django.conf import settings
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination


class Paginated(LimitOffsetPagination):
    class Input(Schema):
        limit: int = Field(settings.NINJA_PAGINATION_PER_PAGE, ge=1, le=settings.NINJA_PAGINATION_MAX_LIMIT)
        # Databases store 64-bit (SQLite: signed) integers; a larger offset is not a page, it is an error.
        offset: int = Field(0, ge=0, le=2**31 - 1)
