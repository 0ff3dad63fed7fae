"""Consent: the append-only history of what each person allows, and the read-time filters learning code must use.

Scopes (PRIVACY-SPEC "Consent scopes"): four are account-wide (`derived_only`, `broad_learning`,
`engraved_learning`, `internal_review`) and one is per item (`gallery_publish`). All are off until granted.

- The current state of an account-wide scope is its newest ConsentEvent (none = not given). Every grant and
  withdrawal appends a row carrying the notice version in force, and an audit event (no content).
- A request that would not change the state records nothing and returns the newest event (None if the scope never
  had one): a double click or a repeated API call cannot pad the history, and a "decline" of something never
  granted is simply the default.
- Learning code never keeps its own list of consenting people: it asks `users_consenting(scope)` or
  `assets_usable_for(scope)` at the moment it reads its inputs (E10), so a withdrawal excludes that person from the
  next run. Closed and restricted (J27) accounts are excluded whatever their history says; jewellery pictures are
  never learning input (J14).
- `gallery_publish` is per item (E6, E14): granting publishes one asset the user owns (sets published_at),
  withdrawing unpublishes it. Nobody but the owner can publish; reviewers and staff act on no one else's item.
- Nothing here is consulted by generation or preparation: declining every scope never blocks a job (E11).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.dispatch import Signal
from django.utils import timezone

from intaglio.assets.models import Asset, AssetKind, RetentionClass
from intaglio.core.audit import audit_record
from intaglio.core.errors import Refused
from intaglio.privacy.models import ConsentEvent, ConsentScope, DerivedMetric
from intaglio.privacy.notice import FIRST_VERSION, policy_current

# The account-wide scopes, in the order people read them.
ACCOUNT_SCOPES: tuple[str, ...] = (
    ConsentScope.DERIVED_ONLY,
    ConsentScope.ENGRAVED_LEARNING,
    ConsentScope.BROAD_LEARNING,
    ConsentScope.INTERNAL_REVIEW,
)
ITEM_SCOPES: tuple[str, ...] = (ConsentScope.GALLERY_PUBLISH,)

# What each scope lets learning or review code read. derived_only allows numbers only (see metrics.py), never a
# picture. Jewellery kinds (reference_image, generated_image) appear nowhere: that studio's content is never used
# for learning (J14). "factory_capture" is listed ahead of its asset kind: a factory photo of a customer's piece
# follows that customer's consent (E13).
PICTURE_KINDS_BY_SCOPE: dict[str, tuple[str, ...]] = {
    ConsentScope.DERIVED_ONLY: (),
    # The workshop's photos of a customer's piece follow the customer's consent like their own photos of it.
    ConsentScope.ENGRAVED_LEARNING: (AssetKind.ENGRAVED_RESULT, AssetKind.FACTORY_CAPTURE),
    ConsentScope.BROAD_LEARNING: (
        AssetKind.SOURCE_PHOTO,
        AssetKind.ARTWORK,
        AssetKind.ENGRAVED_RESULT,
        AssetKind.FACTORY_CAPTURE,
    ),
    ConsentScope.INTERNAL_REVIEW: (AssetKind.ENGRAVED_RESULT, AssetKind.FACTORY_CAPTURE),
}
JEWELLERY_KINDS: tuple[str, ...] = (AssetKind.REFERENCE_IMAGE, AssetKind.GENERATED_IMAGE)
# Finished work only: an uploaded photo or a jewellery reference image is never put in the gallery.
PUBLISHABLE_KINDS: tuple[str, ...] = (AssetKind.ARTWORK, AssetKind.GENERATED_IMAGE, AssetKind.ENGRAVED_RESULT)

SOURCE_MAX_CHARS = 40

# Where a choice was made, as people read it in the history.
SOURCE_LABELS = {
    "privacy_page": "Privacy settings page",
    "api": "API",
    "gallery": "Gallery",
    "system": "Intaglio (automatic)",
}


# Sent inside the withdrawal's transaction, with `user` and `asset`, when an item's gallery_publish consent is
# withdrawn (from any page or the API): the apps showing published items take theirs down at once (E14).
item_unpublished = Signal()


class ConsentRefused(Refused):
    """A consent change that cannot be made."""


@dataclass(frozen=True)
class ScopeState:
    scope: str
    label: str
    granted: bool
    # The newest event of the scope: when and under which notice version the current state was chosen.
    event: ConsentEvent | None


# ------------------------------------------------------------------------------------------------------- reads


def notice_version_current() -> str:
    """The version of the privacy notice in force (notice.policy_current, the one all pages name); version 1, which
    a fresh install publishes on its first migrate, until then (E16)."""
    policy = policy_current()
    return policy.version if policy else FIRST_VERSION


def _newest_events(*, scope: str) -> QuerySet[ConsentEvent]:
    return ConsentEvent.objects.filter(scope=scope, asset__isnull=True).order_by("-created_at", "-id")


def consent_event_current(*, user, scope: str) -> ConsentEvent | None:
    """The newest event of an account-wide scope for this user (None: never chosen, so not given)."""
    return _newest_events(scope=scope).filter(user=user).first()


def consent_active(*, user, scope: str) -> ConsentEvent | None:
    """The grant that is in force now, or None. Metrics link to it (E7)."""
    event = consent_event_current(user=user, scope=scope)
    return event if event is not None and event.granted else None


def consent_current(user) -> dict[str, bool]:
    """{scope: granted} for every account-wide scope; all False until the user grants one.

    gallery_publish is per item and not in this dict: an item is published when its published_at is set."""
    return {state.scope: state.granted for state in consent_states(user=user)}


def consent_states(*, user) -> list[ScopeState]:
    """Each account-wide scope with its current state and the event that set it, in display order."""
    newest: dict[str, ConsentEvent] = {}
    for event in ConsentEvent.objects.filter(user=user, scope__in=ACCOUNT_SCOPES, asset__isnull=True).order_by(
        "-created_at", "-id"
    ):
        newest.setdefault(event.scope, event)
    return [
        ScopeState(
            scope=scope,
            label=ConsentScope(scope).label,
            granted=bool(newest.get(scope) and newest[scope].granted),
            event=newest.get(scope),
        )
        for scope in ACCOUNT_SCOPES
    ]


def consent_history(*, user) -> QuerySet[ConsentEvent]:
    """Every grant and withdrawal of the user, newest first (the page and the API show it)."""
    return ConsentEvent.objects.filter(user=user).order_by("-created_at", "-id")


def published_assets(*, user) -> QuerySet[Asset]:
    """The user's items currently in the gallery."""
    return Asset.objects.filter(owner=user, published_at__isnull=False).order_by("-published_at", "-id")


def users_consenting(scope: str) -> QuerySet:
    """The accounts whose newest event for `scope` is a grant, evaluated when the query runs (E10).

    Closed accounts and accounts that restricted processing (J27) are left out whatever their history says."""
    if scope not in ACCOUNT_SCOPES:
        raise ValueError(f"{scope!r} is not an account-wide consent scope")
    newest = _newest_events(scope=scope).filter(user=OuterRef("pk")).values("granted")[:1]
    return (
        get_user_model()
        .objects.annotate(_consent=Subquery(newest))
        .filter(_consent=True, is_active=True, closed_at__isnull=True, restricted=False)
    )


def assets_usable_for(scope: str) -> QuerySet[Asset]:
    """The pictures learning or review under `scope` may read now: only kinds the scope covers, only of accounts
    consenting at this moment, never jewellery content, never items on legal hold. Call it at read time, for each
    run; never keep its result across runs (E10)."""
    kinds = PICTURE_KINDS_BY_SCOPE.get(scope)
    if kinds is None:
        raise ValueError(f"{scope!r} is not an account-wide consent scope")
    if not kinds:
        return Asset.objects.none()
    return (
        Asset.objects.filter(kind__in=kinds, owner__in=users_consenting(scope).values("pk"))
        .exclude(kind__in=JEWELLERY_KINDS)
        .exclude(legal_hold=True)
    )


# ------------------------------------------------------------------------------------------------------ writes


def _check_source(source: str) -> str:
    source = (source or "").strip()
    if not source or len(source) > SOURCE_MAX_CHARS:
        raise ConsentRefused(
            "invalid_source", f"Say where the choice was made, in at most {SOURCE_MAX_CHARS} characters."
        )
    return source


def _record(*, user, scope: str, granted: bool, source: str, asset: Asset | None = None) -> ConsentEvent:
    event = ConsentEvent.objects.create(
        user=user,
        scope=scope,
        granted=granted,
        asset=asset,
        notice_version=notice_version_current(),
        source=source,
    )
    detail = {"scope": scope, "notice_version": event.notice_version, "source": source}
    if asset is not None:
        detail["asset_id"] = asset.pk
    audit_record(
        action="consent.granted" if granted else "consent.withdrawn",
        actor=user,
        target_type="consent_event",
        target_id=event.pk,
        subject_user_id=user.pk,
        detail=detail,
    )
    return event


def consent_lock(user) -> None:
    # Serialises consent changes and metric writes for one account: a metric can never be written against a grant
    # that a concurrent withdrawal is purging.
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()


@dataclass(frozen=True)
class ConsentChange:
    # The new event, or the newest existing one when nothing changed (None if the scope never had an event).
    event: ConsentEvent | None
    changed: bool


def consent_change(*, user, scope: str, granted: bool, source: str, asset: Asset | None = None) -> ConsentChange:
    """Grants or withdraws one scope (for gallery_publish: one item), and says whether anything changed."""
    source = _check_source(source)
    if scope in ITEM_SCOPES:
        return _gallery_set(user=user, asset=asset, published=granted, source=source)
    if scope not in ACCOUNT_SCOPES:
        raise ConsentRefused("unknown_scope", f"There is no consent called {scope!r}.")
    if asset is not None:
        raise ConsentRefused("no_item_for_scope", "This choice covers your whole account, not one item.")
    with transaction.atomic():
        consent_lock(user)
        current = consent_event_current(user=user, scope=scope)
        if bool(current and current.granted) == granted:
            return ConsentChange(event=current, changed=False)
        event = _record(user=user, scope=scope, granted=granted, source=source)
        if not granted and scope == ConsentScope.DERIVED_ONLY:
            metrics_purge(owner=user, reason="consent_withdrawn")
        if scope == ConsentScope.ENGRAVED_LEARNING:
            _engraved_result_retention(user=user, kept=granted)
        if not granted and scope in (ConsentScope.BROAD_LEARNING, ConsentScope.INTERNAL_REVIEW):
            # Curated training assets exist only under broad-learning consent (E6), and are chosen in internal
            # review (E13): withdrawing either ends their curation now.
            Asset.objects.filter(owner=user, curated=True).update(curated=False)
    return ConsentChange(event=event, changed=True)


def consent_set(*, user, scope: str, granted: bool, source: str, asset: Asset | None = None) -> ConsentEvent | None:
    """Grants or withdraws; returns the new event, or the current one (None if none) when nothing changed."""
    return consent_change(user=user, scope=scope, granted=granted, source=source, asset=asset).event


def consent_grant(*, user, scope: str, source: str, asset: Asset | None = None) -> ConsentEvent:
    """Grants a scope (or publishes `asset` for gallery_publish). Granting what is already granted records nothing."""
    return consent_set(user=user, scope=scope, granted=True, source=source, asset=asset)


def consent_withdraw(*, user, scope: str, source: str, asset: Asset | None = None) -> ConsentEvent | None:
    """Withdraws a scope (or unpublishes `asset`). Withdrawing derived_only deletes every kept measurement at once
    (E7); withdrawing engraved_learning starts the 14-day clock of the photos it kept (PRIVACY-SPEC defaults);
    withdrawing broad_learning or internal_review ends the curation of the user's assets (E6)."""
    return consent_set(user=user, scope=scope, granted=False, source=source, asset=asset)


def metrics_purge(*, owner, reason: str) -> int:
    """Deletes every measurement of the account (on derived_only withdrawal); returns how many went.

    It lives here, not in metrics.py, because a withdrawal is what triggers it and metrics.py reads consent: one
    direction only, no import cycle."""
    count, _ = DerivedMetric.objects.filter(owner=owner).delete()
    audit_record(
        action="metrics.purged",
        actor=owner,
        target_type="user",
        target_id=owner.pk,
        subject_user_id=owner.pk,
        detail={"count": count, "reason": reason},
    )
    return count


def engraved_result_expiry(*, user) -> datetime | None:
    """When a new photo of the user's engraving expires (E12): kept while `engraved_learning` is on (the consent's
    purpose), else private feedback for RETENTION_PRIVATE_FEEDBACK_DAYS. Withdrawing later starts that clock."""
    if consent_active(user=user, scope=ConsentScope.ENGRAVED_LEARNING) is not None:
        return None
    return timezone.now() + timedelta(days=settings.RETENTION_PRIVATE_FEEDBACK_DAYS)


def _engraved_result_retention(*, user, kept: bool) -> int:
    """engraved_learning keeps the user's photos of engravings until it is withdrawn, then 14 days (E12 defaults).

    Only photos still within their private-feedback time are touched: an expired photo is never revived."""
    now = timezone.now()
    # The workshop's photos of the user's pieces (factory_capture) follow the same consent (E13).
    photos = Asset.objects.filter(
        owner=user,
        kind__in=(AssetKind.ENGRAVED_RESULT, AssetKind.FACTORY_CAPTURE),
        retention_class=RetentionClass.PRIVATE_FEEDBACK,
    )
    if kept:
        return photos.filter(expires_at__gt=now).update(expires_at=None)
    ends = now + timedelta(days=settings.RETENTION_PRIVATE_FEEDBACK_DAYS)
    return photos.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=ends)).update(expires_at=ends)


def _gallery_set(*, user, asset: Asset | None, published: bool, source: str) -> ConsentChange:
    """Publishes or unpublishes one item. Only its owner can do either (E14)."""
    if asset is None:
        raise ConsentRefused("item_required", "Publishing is chosen item by item: say which item.")
    with transaction.atomic():
        consent_lock(user)
        locked = Asset.objects.select_for_update().filter(pk=asset.pk).first()
        if locked is None or locked.owner_id != user.pk:
            # The same answer for "not yours" and "does not exist", so ids of other people's items reveal nothing.
            raise ConsentRefused("not_found", "No such item among yours; only its owner can publish it.", status=404)
        if published and locked.kind not in PUBLISHABLE_KINDS:
            raise ConsentRefused(
                "not_publishable",
                "Only finished work can go in the gallery: artwork, generated images and photos of engravings.",
                status=409,
            )
        if (locked.published_at is not None) == published:
            newest = (
                ConsentEvent.objects.filter(user=user, scope=ConsentScope.GALLERY_PUBLISH, asset=locked)
                .order_by("-created_at", "-id")
                .first()
            )
            return ConsentChange(event=newest, changed=False)
        event = _record(user=user, scope=ConsentScope.GALLERY_PUBLISH, granted=published, source=source, asset=locked)
        locked.published_at = event.created_at if published else None
        locked.save(update_fields=["published_at"])
        if not published:
            item_unpublished.send(sender=ConsentEvent, user=user, asset=locked)
    asset.published_at = locked.published_at
    return ConsentChange(event=event, changed=True)
