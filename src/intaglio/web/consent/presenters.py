"""The workspace Privacy page in words: what each consent allows and never allows, the history of every choice and
the items in the gallery."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator

from intaglio.assets.models import Asset, AssetKind
from intaglio.privacy import consent
from intaglio.privacy.models import ConsentScope
from intaglio.privacy.notice import policy_current

HISTORY_PAGE_SIZE = 20


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


def item_label(asset: Asset | None) -> str:
    if asset is None:
        return ""
    return f"{AssetKind(asset.kind).label if asset.kind in AssetKind.values else asset.kind} #{asset.pk}"


def privacy_settings_context(user, *, page_number) -> dict:
    texts = scope_texts()
    cards = [
        ScopeCard(scope=state.scope, text=texts[state.scope], granted=state.granted, event=state.event)
        for state in consent.consent_states(user=user)
    ]
    page = Paginator(consent.consent_history(user=user).select_related("asset"), HISTORY_PAGE_SIZE).get_page(
        page_number
    )
    rows = [
        HistoryRow(
            event=event,
            title=texts[event.scope].title if event.scope in texts else ConsentScope(event.scope).label,
            where=SOURCE_LABELS.get(event.source, event.source),
            item=item_label(event.asset) if event.scope == ConsentScope.GALLERY_PUBLISH else "",
        )
        for event in page.object_list
    ]
    published = [(asset, item_label(asset)) for asset in consent.published_assets(user=user)]
    return {
        "cards": cards,
        "granted_count": sum(card.granted for card in cards),
        "notice_version": consent.notice_version_current(),
        "notice": policy_current(),
        "published": published,
        "page": page,
        "rows": rows,
    }


def consent_set_message(*, scope: str, granted: bool, changed: bool) -> tuple[int, str]:
    """(message level, text) of the message after a consent button."""
    title = scope_texts()[scope].title
    if not changed:
        return messages.INFO, f"“{title}” was already {'on' if granted else 'off'}; nothing changed."
    if granted:
        return messages.SUCCESS, f"“{title}” is on. You can turn it off here at any time."
    if scope == ConsentScope.DERIVED_ONLY:
        return messages.SUCCESS, f"“{title}” is off, and the measurements we kept are deleted."
    return messages.SUCCESS, f"“{title}” is off. It applies from the next run on."


def gallery_set_message(asset: Asset, *, granted: bool, changed: bool) -> tuple[int, str]:
    """(message level, text) of the message after publishing or unpublishing an item."""
    label = item_label(asset)
    if not changed:
        return messages.INFO, f"{label} was already {'in' if granted else 'out of'} the gallery."
    return messages.SUCCESS, f"{label} is {'in the gallery now' if granted else 'no longer in the gallery'}."
