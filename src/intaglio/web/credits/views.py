"""The credits page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from intaglio.web.credits.presenters import credits_context


@login_required
def credits_page(request):
    return render(request, "web/credits.html", credits_context(request.user, page_number=request.GET.get("page")))
