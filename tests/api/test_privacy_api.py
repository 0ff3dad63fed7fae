"""API v1: privacy choices. GET /privacy/consents (state and history), PUT /privacy/consents/{scope} and
PUT /privacy/gallery/{asset_id}. The router is registered in api.py as `api.add_router("/", privacy.router)`."""

from datetime import datetime

import pytest

from intaglio.assets.models import AssetKind
from intaglio.privacy.consent import ACCOUNT_SCOPES, consent_current, consent_grant
from intaglio.privacy.metrics import metric_record
from intaglio.privacy.models import ConsentEvent, DerivedMetric
from tests.factories import make_token
from tests.privacy import make_asset

pytestmark = pytest.mark.django_db

CONSENTS = "/api/v1/privacy/consents"


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def put(client, path, body, token):
    return client.put(path, body, content_type="application/json", **bearer(token))


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error", "request_id"} and body["error"]["code"] == code
    return body


def test_everything_starts_off(client, token):
    response = client.get(CONSENTS, **bearer(token))
    assert response.status_code == 200
    body = response.json()
    assert body["notice_version"] == "1" and body["history"] == [] and body["published_asset_ids"] == []
    assert [s["scope"] for s in body["scopes"]] == list(ACCOUNT_SCOPES)
    for state in body["scopes"]:
        assert state["granted"] is False and state["changed_at"] is None and state["notice_version"] is None
        assert state["label"]


def test_turning_a_consent_on_and_off_is_one_call_each_and_is_recorded(client, user, token):
    on = put(client, f"{CONSENTS}/engraved_learning", {"granted": True}, token)
    assert on.status_code == 200
    assert on.json() | {"changed_at": None} == {
        "scope": "engraved_learning",
        "label": "Learn from photos of my engravings",
        "granted": True,
        "changed_at": None,
        "notice_version": "1",
        "changed": True,
    }
    again = put(client, f"{CONSENTS}/engraved_learning", {"granted": True}, token)
    assert again.json()["changed"] is False and again.json()["changed_at"] == on.json()["changed_at"]
    off = put(client, f"{CONSENTS}/engraved_learning", {"granted": False}, token)
    assert off.json()["granted"] is False and off.json()["changed"] is True
    assert consent_current(user)["engraved_learning"] is False

    history = client.get(CONSENTS, **bearer(token)).json()["history"]
    assert [(h["scope"], h["granted"], h["source"], h["notice_version"]) for h in history] == [
        ("engraved_learning", False, "api", "1"),
        ("engraved_learning", True, "api", "1"),
    ]
    assert datetime.fromisoformat(history[0]["created_at"]) >= datetime.fromisoformat(history[1]["created_at"])
    assert ConsentEvent.objects.filter(user=user).count() == 2


def test_E7_turning_derived_only_off_deletes_the_measurements(client, user, token):
    assert put(client, f"{CONSENTS}/derived_only", {"granted": True}, token).status_code == 200
    metric_record(owner=user, key="quality_score", value=0.4)
    assert put(client, f"{CONSENTS}/derived_only", {"granted": False}, token).json()["changed"] is True
    assert not DerivedMetric.objects.filter(owner=user).exists()


def test_invalid_requests_are_refused_in_the_error_shape(client, user, token):
    assert_error(put(client, f"{CONSENTS}/marketing", {"granted": True}, token), 422, "validation_error")
    # gallery_publish is per item: it has its own operation.
    assert_error(put(client, f"{CONSENTS}/gallery_publish", {"granted": True}, token), 422, "validation_error")
    for body in ({"granted": "yes"}, {"granted": 1}, {}, {"granted": None}):
        assert_error(put(client, f"{CONSENTS}/derived_only", body, token), 422, "validation_error")
    assert not ConsentEvent.objects.exists()


def test_logged_out_and_csrf_less_calls_change_nothing(client, csrf_client, user):
    assert_error(client.get(CONSENTS), 401, "not_authenticated")
    response = client.put(f"{CONSENTS}/derived_only", {"granted": True}, content_type="application/json")
    assert_error(response, 401, "not_authenticated")
    csrf_client.force_login(user)
    response = csrf_client.put(f"{CONSENTS}/derived_only", {"granted": True}, content_type="application/json")
    assert response.status_code in (401, 403)
    assert not ConsentEvent.objects.exists()


def test_each_account_sees_only_its_own_choices(client, user, other_user, token):
    consent_grant(user=other_user, scope="internal_review", source="privacy_page")
    body = client.get(CONSENTS, **bearer(token)).json()
    assert body["history"] == [] and not any(s["granted"] for s in body["scopes"])
    other = client.get(CONSENTS, **bearer(make_token(other_user))).json()
    assert [h["scope"] for h in other["history"]] == ["internal_review"]


def test_E14_only_the_owner_publishes_through_the_api(client, user, other_user, token):
    artwork = make_asset(user, AssetKind.ARTWORK)
    theirs = make_asset(other_user, AssetKind.ARTWORK)
    photo = make_asset(user, AssetKind.SOURCE_PHOTO)

    assert_error(put(client, f"/api/v1/privacy/gallery/{theirs.pk}", {"published": True}, token), 404, "not_found")
    theirs.refresh_from_db()
    assert theirs.published_at is None
    assert_error(put(client, f"/api/v1/privacy/gallery/{photo.pk}", {"published": True}, token), 409, "not_publishable")

    response = put(client, f"/api/v1/privacy/gallery/{artwork.pk}", {"published": True}, token)
    assert response.status_code == 200
    body = response.json()
    assert body["asset_id"] == artwork.pk and body["published"] is True and body["changed"] is True
    assert client.get(CONSENTS, **bearer(token)).json()["published_asset_ids"] == [artwork.pk]
    history = client.get(CONSENTS, **bearer(token)).json()["history"]
    assert history[0]["scope"] == "gallery_publish" and history[0]["asset_id"] == artwork.pk

    response = put(client, f"/api/v1/privacy/gallery/{artwork.pk}", {"published": False}, token)
    assert response.json()["published"] is False and response.json()["published_at"] is None
    artwork.refresh_from_db()
    assert artwork.published_at is None


def test_the_operations_are_documented(client):
    spec = client.get("/api/v1/openapi.json").json()
    put_consent = spec["paths"]["/api/v1/privacy/consents/{scope}"]["put"]
    assert put_consent["tags"] == ["privacy"] and "derived_only" in put_consent["description"]
    scope_param = next(p for p in put_consent["parameters"] if p["name"] == "scope")
    assert set(scope_param["schema"]["enum"]) == set(ACCOUNT_SCOPES)
    assert "get" in spec["paths"]["/api/v1/privacy/consents"]
    assert "put" in spec["paths"]["/api/v1/privacy/gallery/{asset_id}"]
