"""The one way a request reaches a customer's object: scoped to its owner, so another account's id is simply
"not found" (404), never "forbidden", which would confirm that it exists."""

from __future__ import annotations

from django.db.models import Model, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404


class NotOwned(Http404):
    """No such object, or not the requester's. `message` is written for them: the API answers with it."""

    def __init__(self, message: str = "Not found."):
        super().__init__(message)
        self.message = message


def owned(source: type[Model] | QuerySet, *, owner, pk, owner_field: str = "owner", missing: str = "Not found."):
    """The object `pk` of `source` (a model or a queryset) that belongs to `owner`; NotOwned (an Http404) saying
    `missing` otherwise."""
    try:
        return get_object_or_404(source, pk=pk, **{owner_field: owner})
    except Http404:
        raise NotOwned(missing) from None
