"""Privacy choices: what you allow Intaglio to keep and learn from, and the history of every choice.

Every consent is off until you turn it on, and turning it off is the same single call. Each change is kept as a new
history entry with the privacy notice version in force; repeating the current state records nothing. Declining
never limits what you can make: no job checks these choices.
"""

# No `from __future__ import annotations`: Ninja reads the Literal path parameters at import time.
from datetime import datetime
from typing import Literal

from ninja import Field, Router, Schema

from intaglio.api.errors import ErrorOut
from intaglio.api.schemas import StrictIn
from intaglio.assets.models import Asset
from intaglio.core.access import owned
from intaglio.privacy import consent
from intaglio.privacy.models import ConsentEvent, ConsentScope

router = Router(tags=["privacy"])

AccountScope = Literal[tuple(consent.ACCOUNT_SCOPES)]
AnyScope = Literal[tuple(ConsentScope.values)]

SCOPES_DOC = (
    "`derived_only`: keep measurements of your engravings (numbers and short labels, never pictures) after the "
    "photo is deleted; turning it off deletes them. `engraved_learning`: learn from photos of your engravings to "
    "improve material and machine recommendations. `broad_learning`: your engraving pictures may become curated "
    "examples (never jewellery-studio content). `internal_review`: our reviewers may look at photos of your "
    "engravings (read-only, every view logged). `gallery_publish` is per item: see PUT /privacy/gallery/{asset_id}."
)


class ConsentEventOut(Schema):
    id: int
    scope: AnyScope
    granted: bool = Field(description="true: turned on (or published); false: turned off (or unpublished).")
    asset_id: int | None = Field(
        description="For gallery_publish, the item published or unpublished (null once it is deleted); else null."
    )
    notice_version: str = Field(description="The privacy notice version in force at the time.")
    source: str = Field(description="Where the choice was made: privacy_page, api, gallery or system.")
    created_at: datetime


class ConsentScopeOut(Schema):
    scope: AccountScope
    label: str
    granted: bool
    changed_at: datetime | None = Field(description="When the current state was chosen; null: never (off).")
    notice_version: str | None = Field(description="The notice version in force then; null if never chosen.")


class ConsentsOut(Schema):
    notice_version: str = Field(description="The current privacy notice version.")
    scopes: list[ConsentScopeOut] = Field(description="Each account-wide consent and its current state.")
    published_asset_ids: list[int] = Field(description="Your items in the gallery now (gallery_publish).")
    history: list[ConsentEventOut] = Field(description="Every grant and withdrawal, newest first.")


class ConsentIn(StrictIn):
    granted: bool = Field(description="true turns the consent on, false turns it off.")


class ConsentSetOut(ConsentScopeOut):
    changed: bool = Field(description="false when it was already in the requested state (nothing recorded).")


class GalleryIn(StrictIn):
    published: bool = Field(description="true publishes the item, false takes it out of the gallery.")


class GalleryItemOut(Schema):
    asset_id: int
    published: bool
    published_at: datetime | None
    changed: bool = Field(description="false when it was already in the requested state (nothing recorded).")


def _event_out(event: ConsentEvent) -> dict:
    return {
        "id": event.pk,
        "scope": event.scope,
        "granted": event.granted,
        "asset_id": event.asset_id,
        "notice_version": event.notice_version,
        "source": event.source,
        "created_at": event.created_at,
    }


def _scope_out(state: consent.ScopeState) -> dict:
    return {
        "scope": state.scope,
        "label": state.label,
        "granted": state.granted,
        "changed_at": state.event.created_at if state.event else None,
        "notice_version": state.event.notice_version if state.event else None,
    }


@router.get(
    "/privacy/consents",
    response=ConsentsOut,
    summary="Your privacy choices and their history",
    description=f"Every consent starts off. {SCOPES_DOC}",
)
def get_consents(request):
    user = request.auth
    return {
        "notice_version": consent.notice_version_current(),
        "scopes": [_scope_out(state) for state in consent.consent_states(user=user)],
        "published_asset_ids": list(consent.published_assets(user=user).values_list("pk", flat=True)),
        "history": [_event_out(event) for event in consent.consent_history(user=user)],
    }


@router.put(
    "/privacy/consents/{scope}",
    response=ConsentSetOut,
    summary="Turn one consent on or off",
    description=(
        "Records the change with the current notice version; asking for the state it is already in records nothing "
        f"(`changed: false`). Turning `derived_only` off deletes every kept measurement at once. {SCOPES_DOC}"
    ),
)
def set_consent(request, scope: AccountScope, payload: ConsentIn):
    user = request.auth
    change = consent.consent_change(user=user, scope=scope, granted=payload.granted, source="api")
    state = next(state for state in consent.consent_states(user=user) if state.scope == scope)
    return {**_scope_out(state), "changed": change.changed}


@router.put(
    "/privacy/gallery/{asset_id}",
    response={200: GalleryItemOut, 409: ErrorOut},
    summary="Publish one of your items in the gallery, or take it out",
    description=(
        "Only the item's owner can publish it; another account's item, or one that does not exist, answers 404. "
        "Only finished work can be published (artwork, generated images, photos of engravings): anything else "
        "answers 409. The item stays in the gallery until you take it out."
    ),
)
def set_gallery(request, asset_id: int, payload: GalleryIn):
    user = request.auth
    asset = owned(Asset, owner=user, pk=asset_id, missing="No such item.")
    change = consent.consent_change(
        user=user, scope=ConsentScope.GALLERY_PUBLISH, granted=payload.published, source="api", asset=asset
    )
    return {
        "asset_id": asset.pk,
        "published": asset.published_at is not None,
        "published_at": asset.published_at,
        "changed": change.changed,
    }
