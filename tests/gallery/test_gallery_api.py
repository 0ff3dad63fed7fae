"""The gallery API: public reads without credentials, the owner's publish and unpublish, documented in the OpenAPI."""

from __future__ import annotations

import pytest
from django.test import Client

from intaglio.api.api import api
from intaglio.gallery import services
from intaglio.gallery.models import GalleryItem, ModerationState
from intaglio.privacy.models import ConsentEvent
from tests.factories import make_token
from tests.gallery import SETTINGS, finished_version, make_moderator

pytestmark = pytest.mark.django_db

ITEMS = "/api/v1/gallery/items"
LASER = {"power_pct": 37.0, "speed_mm_min": 2400.0, "passes": 2, "overscan_mm": 4.0, "air_assist": True,
         "scan": "horizontal"}  # fmt: skip


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_E14_the_public_reads_published_items_without_credentials(user, other_user):
    assert Client().get(ITEMS).json() == {"items": [], "count": 0}
    version = finished_version(user, settings={**SETTINGS, "laser": LASER})
    item = services.gallery_publish(owner=user, version=version, title="Rex on slate", story="A gift.")
    services.gallery_publish(owner=other_user, version=finished_version(other_user, settings={
        **SETTINGS, "material": "birch-plywood"}), title="Birch")  # fmt: skip
    body = Client().get(ITEMS).json()
    assert body["count"] == 2
    only_slate = Client().get(ITEMS, {"material": "slate"}).json()
    (entry,) = only_slate["items"]
    assert entry["public_id"] == item.public_id and entry["title"] == "Rex on slate" and entry["story"] == "A gift."
    assert entry["recipe"]["power_pct"] == 37.0 and entry["recipe"]["passes"] == 2
    assert entry["recipe"]["material"] == "slate" and entry["recipe"]["machine_kind"] == "diode"
    assert [picture["role"] for picture in entry["pictures"]] == ["artwork", "burn_preview"]
    assert Client().get(entry["pictures"][0]["url"]).status_code == 200
    assert Client().get(ITEMS, {"machine_kind": "co2"}).json()["count"] == 0
    one = Client().get(f"{ITEMS}/{item.public_id}")
    assert one.status_code == 200 and one.json() == entry
    text = str(body)
    assert user.email not in text and other_user.email not in text and "owner" not in text


def test_E14_a_hidden_or_unpublished_item_is_gone_from_the_api_at_once(user):
    item = services.gallery_publish(owner=user, version=finished_version(user), title="Rex")
    services.moderation_decide(item=item, moderator=make_moderator(), action="hide", note="Checking.")
    assert Client().get(f"{ITEMS}/{item.public_id}").json()["error"]["code"] == "not_found"
    assert Client().get(ITEMS).json()["count"] == 0
    GalleryItem.objects.filter(pk=item.pk).update(moderation=ModerationState.VISIBLE)
    assert Client().get(f"{ITEMS}/{item.public_id}").status_code == 200
    owner = make_token(user)
    assert Client().delete(f"{ITEMS}/{item.public_id}", **bearer(owner)).status_code == 204
    assert Client().get(f"{ITEMS}/{item.public_id}").status_code == 404
    assert not GalleryItem.objects.exists()
    event = ConsentEvent.objects.filter(user=user, scope="gallery_publish").order_by("-created_at", "-id").first()
    assert not event.granted and event.source == "api"


def test_the_owner_publishes_through_the_api_and_nobody_else_can(user, other_user):
    version = finished_version(user)
    body = {"artwork_id": version.artwork_id, "version": version.number, "title": "From my script"}
    assert Client().post(ITEMS, body, content_type="application/json").status_code == 401
    theirs = Client().post(ITEMS, body, content_type="application/json", **bearer(make_token(other_user)))
    assert theirs.status_code == 404 and theirs.json()["error"]["code"] == "not_found"
    assert not GalleryItem.objects.exists()
    token = make_token(user)
    made = Client().post(ITEMS, body, content_type="application/json", **bearer(token))
    assert made.status_code == 201 and made.json()["title"] == "From my script"
    again = Client().post(ITEMS, body, content_type="application/json", **bearer(token))
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_published"
    item = GalleryItem.objects.get()
    refused = Client().delete(f"{ITEMS}/{item.public_id}", **bearer(make_token(other_user)))
    assert refused.status_code == 404 and GalleryItem.objects.exists()


def test_the_gallery_operations_are_in_the_openapi_document():
    paths = api.get_openapi_schema()["paths"]
    assert set(paths[ITEMS]) == {"get", "post"} and set(paths[ITEMS + "/{public_id}"]) == {"get", "delete"}
    assert "security" in paths[ITEMS]["post"] and "security" not in paths[ITEMS]["get"]
    names = {parameter["name"] for parameter in paths[ITEMS]["get"]["parameters"]}
    assert {"material", "machine_kind", "limit", "offset"} <= names
