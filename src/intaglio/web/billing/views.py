"""Pricing, Checkout, the portal and the return from Checkout. Credits never come from here: only from webhooks."""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from intaglio.billing.services import checkout_start, portal_start
from intaglio.providers.base import ProviderError
from intaglio.web.billing.presenters import pricing_context
from intaglio.web.refusals import refusal_as_message


def pricing(request):
    return render(request, "web/pricing.html", pricing_context(request.user))


@login_required
@require_POST
def checkout(request, product: str):
    url = None
    with refusal_as_message(request):
        try:
            url = checkout_start(user=request.user, product=product, attempt=_attempt(request))
        except ProviderError as error:
            messages.error(request, str(error))
    return redirect(url) if url else redirect("pricing")


@login_required
@require_POST
def portal(request):
    url = None
    with refusal_as_message(request):
        try:
            url = portal_start(user=request.user, attempt=_attempt(request))
        except ProviderError as error:
            messages.error(request, str(error))
    return redirect(url) if url else redirect("account")


@login_required
def checkout_return(request):
    if request.GET.get("result") == "success":
        messages.success(
            request, "Thank you. Stripe is confirming the payment; your plan and credits update as soon as it does."
        )
        return redirect("credits")
    messages.info(request, "Checkout was cancelled; nothing was charged.")
    return redirect("pricing")


def _attempt(request) -> str:
    # One attempt per form post: a retried request (the library's own retries) reuses it, a new click does not.
    return request.POST.get("attempt") or secrets.token_hex(8)
