"""How a page shows a refusal (core.errors.Refused, from any domain app), written once.

Either the refusal becomes an error message on the page the view redirects to (`refusal_as_message`), or the view
keeps it to show beside its form and answers with the refusal's status (`refusal_kept`):

    with refusal_as_message(request):
        piece_reanalyse(piece=piece)
        messages.info(request, "Analysing the references again.")   # only when nothing was refused
    return redirect(...)

    with refusal_kept() as refused:
        piece = piece_create(...)
    if refused:
        return render(request, template, {..., "error": refused.message}, status=refused.status)
"""

from __future__ import annotations

from contextlib import contextmanager

from django.contrib import messages
from django.http import Http404

from intaglio.core.errors import Refused


@contextmanager
def refusal_as_message(request):
    """A refusal in the block becomes an error message on the next page; "not yours" (404) stays a 404."""
    try:
        yield
    except Refused as refusal:
        if refusal.status == 404:
            raise Http404(refusal.message) from None
        messages.error(request, refusal.message)


class KeptRefusal:
    """The refusal a block raised, if any: true when there was one."""

    refusal: Refused | None = None

    def __bool__(self) -> bool:
        return self.refusal is not None

    @property
    def message(self) -> str:
        return self.refusal.message if self.refusal else ""

    @property
    def status(self) -> int:
        return self.refusal.status if self.refusal else 200


@contextmanager
def refusal_kept():
    """Runs the block and keeps a refusal for the page to show, with its status as the page's status."""
    kept = KeptRefusal()
    try:
        yield kept
    except Refused as refusal:
        kept.refusal = refusal
