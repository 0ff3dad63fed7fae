"""The workspace Privacy page: each consent with what it allows and never allows, one button to turn it on or off,
the items in the gallery, and the history of every choice.

Thin: the page reads the consent selectors; a button posts to a view that calls one service (privacy.consent).
The plain words for each scope and for where a choice was made are in presenters.py.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from intaglio.assets.models import Asset
from intaglio.core.access import owned
from intaglio.privacy import consent
from intaglio.privacy.models import ConsentScope
from intaglio.web.consent.presenters import consent_set_message, gallery_set_message, privacy_settings_context
from intaglio.web.refusals import refusal_as_message

SOURCE = "privacy_page"


@login_required
def privacy_settings(request):
    context = privacy_settings_context(request.user, page_number=request.GET.get("page"))
    return render(request, "web/consent_settings.html", context)


def _granted(request) -> bool | None:
    value = request.POST.get("granted")
    return {"1": True, "0": False}.get(value)


@login_required
@require_POST
def privacy_consent_set(request, scope: str):
    """One click turns a consent on or off."""
    if scope not in consent.ACCOUNT_SCOPES:
        raise Http404("No such consent.")
    granted = _granted(request)
    if granted is None:
        return HttpResponseBadRequest("Say whether to turn it on or off.")
    change = consent.consent_change(user=request.user, scope=scope, granted=granted, source=SOURCE)
    messages.add_message(request, *consent_set_message(scope=scope, granted=granted, changed=change.changed))
    return redirect(f"{reverse('privacy-settings')}#consent-{scope}")


@login_required
@require_POST
def privacy_gallery_set(request, asset_id: int):
    """Publishes (granted=1) or unpublishes (granted=0) one of the user's items; other pages may post here too,
    with a `next` path on this site to come back to."""
    granted = _granted(request)
    if granted is None:
        return HttpResponseBadRequest("Say whether to publish or unpublish.")
    asset = owned(Asset, owner=request.user, pk=asset_id, missing="No such item.")
    with refusal_as_message(request):
        change = consent.consent_change(
            user=request.user, scope=ConsentScope.GALLERY_PUBLISH, granted=granted, source=SOURCE, asset=asset
        )
        messages.add_message(request, *gallery_set_message(asset, granted=granted, changed=change.changed))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = f"{reverse('privacy-settings')}#gallery"
    return redirect(target)
