"""The workspace Privacy page: each consent with what it allows and never allows, one button to turn it on or off,
the items in the gallery, and the history of every choice.

Thin: the page reads the consent selectors; a button posts to a view that calls one service (privacy.consent).
What is here besides is presentation: the plain words for each scope and for where a choice was made.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from intaglio.assets.models import Asset, AssetKind
from intaglio.privacy import consent
from intaglio.privacy.models import ConsentScope

HISTORY_PAGE_SIZE = 20
SOURCE = "privacy_page"


@dataclass(frozen=True)
class ScopeText:
    title: str
    summary: str
    allows: tuple[str, ...]
    never: tuple[str, ...]
    # What turning it off does, at once.
    off: str


def scope_texts() -> dict[str, ScopeText]:
    """What each account-wide consent allows and never allows, in plain words built from the live settings."""
    months = round(settings.RETENTION_DERIVED_METRIC_DAYS / 30.4)
    feedback_days = settings.RETENTION_PRIVATE_FEEDBACK_DAYS
    return {
        ConsentScope.DERIVED_ONLY: ScopeText(
            title="Keep measurements of my engravings",
            summary=(
                "When a photo of a finished engraving is checked, we can keep the numbers it gave after the photo "
                "itself is deleted, to improve material and machine settings."
            ),
            allows=(
                "Keeping numbers and short labels only: contrast, alignment error, a quality score, dot gain, "
                "the material and machine, and whether the burn came out too light, right or too dark.",
                f"Keeping them for up to {months} months, even after the photo is gone.",
            ),
            never=(
                "Never a picture, pixels or any part of a file.",
                "Never anything from the jewellery studio.",
            ),
            off="every measurement we kept is deleted at once.",
        ),
        ConsentScope.ENGRAVED_LEARNING: ScopeText(
            title="Learn from photos of my engravings",
            summary=(
                "Photos you upload of finished engravings can help us recommend better settings for each "
                "material and machine."
            ),
            allows=(
                "Using those photos as examples when we improve material and machine recommendations.",
                f"Keeping them while this is on, instead of deleting them after {feedback_days} days.",
            ),
            never=(
                "Never used for anything but material and machine recommendations.",
                "Never shown publicly, sold or used for marketing.",
            ),
            off=f"your photos are left out of the next improvement run and deleted {feedback_days} days later.",
        ),
        ConsentScope.BROAD_LEARNING: ScopeText(
            title="Use my engraving pictures as curated examples",
            summary=(
                "The photos you engrave, the artwork made from them and photos of the results can become curated "
                "examples that improve artwork and settings for everyone."
            ),
            allows=(
                "Choosing some of your engraving pictures as examples for improving our artwork and engraving "
                "guidance.",
                "Keeping a curated picture longer than your own work needs it, while this is on.",
            ),
            never=(
                "Never your jewellery-studio images: that studio never trains anything.",
                "Never shown publicly, sold or used for marketing.",
            ),
            off="curation ends and your pictures are left out of the next run.",
        ),
        ConsentScope.INTERNAL_REVIEW: ScopeText(
            title="Let our team review my engravings",
            summary=(
                "Our reviewers can look at photos of your engravings, and at factory photos of pieces made for "
                "you, to check quality, safety and support questions."
            ),
            allows=(
                "Looking at those photos to judge styles, materials and machine settings.",
                "Every look is recorded in our audit log.",
            ),
            never=(
                "Reviewers can only look: they cannot change, delete or publish anything.",
                "Nothing becomes public unless you publish it yourself.",
            ),
            off="reviewers no longer see your photos.",
        ),
    }


SOURCE_LABELS = consent.SOURCE_LABELS


@dataclass(frozen=True)
class ScopeCard:
    scope: str
    text: ScopeText
    granted: bool
    event: object


@dataclass(frozen=True)
class HistoryRow:
    event: object
    title: str
    where: str
    item: str


def _item_label(asset: Asset | None) -> str:
    if asset is None:
        return ""
    return f"{AssetKind(asset.kind).label if asset.kind in AssetKind.values else asset.kind} #{asset.pk}"


@login_required
def privacy_settings(request):
    user = request.user
    texts = scope_texts()
    cards = [
        ScopeCard(scope=state.scope, text=texts[state.scope], granted=state.granted, event=state.event)
        for state in consent.consent_states(user=user)
    ]
    page = Paginator(consent.consent_history(user=user).select_related("asset"), HISTORY_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [
        HistoryRow(
            event=event,
            title=texts[event.scope].title if event.scope in texts else ConsentScope(event.scope).label,
            where=SOURCE_LABELS.get(event.source, event.source),
            item=_item_label(event.asset) if event.scope == ConsentScope.GALLERY_PUBLISH else "",
        )
        for event in page.object_list
    ]
    published = [(asset, _item_label(asset)) for asset in consent.published_assets(user=user)]
    context = {
        "cards": cards,
        "granted_count": sum(card.granted for card in cards),
        "notice_version": consent.notice_version_current(),
        "published": published,
        "page": page,
        "rows": rows,
    }
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
    title = scope_texts()[scope].title
    change = consent.consent_change(user=request.user, scope=scope, granted=granted, source=SOURCE)
    if not change.changed:
        messages.info(request, f"“{title}” was already {'on' if granted else 'off'}; nothing changed.")
    elif granted:
        messages.success(request, f"“{title}” is on. You can turn it off here at any time.")
    elif scope == ConsentScope.DERIVED_ONLY:
        messages.success(request, f"“{title}” is off, and the measurements we kept are deleted.")
    else:
        messages.success(request, f"“{title}” is off. It applies from the next run on.")
    return redirect(f"{reverse('privacy-settings')}#consent-{scope}")


@login_required
@require_POST
def privacy_gallery_set(request, asset_id: int):
    """Publishes (granted=1) or unpublishes (granted=0) one of the user's items; other pages may post here too,
    with a `next` path on this site to come back to."""
    granted = _granted(request)
    if granted is None:
        return HttpResponseBadRequest("Say whether to publish or unpublish.")
    asset = Asset.objects.filter(owner=request.user, pk=asset_id).first()
    if asset is None:
        raise Http404("No such item.")
    try:
        change = consent.consent_change(
            user=request.user, scope=ConsentScope.GALLERY_PUBLISH, granted=granted, source=SOURCE, asset=asset
        )
    except consent.ConsentRefused as refusal:
        if refusal.status == 404:
            raise Http404(refusal.message) from None
        messages.error(request, refusal.message)
    else:
        label = _item_label(asset)
        if not change.changed:
            messages.info(request, f"{label} was already {'in' if granted else 'out of'} the gallery.")
        else:
            messages.success(request, f"{label} is {'in the gallery now' if granted else 'no longer in the gallery'}.")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = f"{reverse('privacy-settings')}#gallery"
    return redirect(target)
