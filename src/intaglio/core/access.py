"""The one way a request reaches a customer's object: scoped to its owner, so another account's id is simply
"not found" (404), never "forbidden", which would confirm that it exists."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404


class NotOwned(Http404):
    """No such object, or not the requester's. `message` is written for them: the API answers with it."""

    def __init__(self, message: str = "Not found."):
        super().__init__(message)
        self.message = message


def owned(source, *, owner, pk, owner_field: str = "owner", missing: str = "Not found."):
    """The object `pk` that belongs to `owner`; NotOwned (an Http404) saying `missing` otherwise.

    `source` is a model or a queryset (filtered here by `owner_field`), or a selector already scoped to an owner,
    called as `source(owner=owner)` (e.g. `jobs.selectors.job_list`)."""
    if callable(source) and not isinstance(source, type):
        source, scope = source(owner=owner), {}
    else:
        scope = {owner_field: owner}
    try:
        return get_object_or_404(source, pk=pk, **scope)
    except Http404:
        raise NotOwned(missing) from None
