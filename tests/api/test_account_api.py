"""API v1: authentication, the account, tokens, the error shape, pagination and throttling."""

from datetime import datetime

import pytest
from django.test import Client, override_settings

from intaglio.accounts.models import ApiToken
from intaglio.accounts.services import api_token_create
from tests.factories import make_token

pytestmark = pytest.mark.django_db


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def assert_error_shape(response, status, code):
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error", "request_id"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], list)
    assert body["request_id"] == response["X-Request-ID"]
    return body


def test_me_with_a_token(client, user, token):
    response = client.get("/api/v1/me", **bearer(token))
    assert response.status_code == 200
    body = response.json()
    assert abs(datetime.fromisoformat(body.pop("date_joined")) - user.date_joined).total_seconds() < 0.001
    assert body == {"id": user.pk, "email": user.email, "email_verified": True}


def test_me_with_a_session(logged_in, user):
    assert logged_in.get("/api/v1/me").json()["email"] == user.email


@pytest.mark.parametrize(
    "headers",
    [{}, bearer("itg_not-a-real-token-at-all"), bearer(""), {"HTTP_AUTHORIZATION": "Basic dXNlcjpwdw=="}],
)
def test_logged_out_calls_get_401_in_the_error_shape(client, headers):
    assert_error_shape(client.get("/api/v1/me", **headers), 401, "not_authenticated")
    assert_error_shape(
        client.post("/api/v1/tokens", {"name": "x"}, content_type="application/json", **headers),
        401,
        "not_authenticated",
    )


def test_a_token_reads_only_its_own_account(client, user, other_user, token):
    other_token = make_token(other_user)
    assert client.get("/api/v1/me", **bearer(token)).json()["id"] == user.pk
    assert client.get("/api/v1/me", **bearer(other_token)).json()["id"] == other_user.pk


def test_another_users_token_cannot_list_or_revoke_mine(client, user, other_user, token):
    mine, _ = api_token_create(user=user, name="mine")
    other_token = make_token(other_user)
    listed = client.get("/api/v1/tokens", **bearer(other_token)).json()
    assert {t["name"] for t in listed["items"]} == {"script"}  # only the other user's own token
    assert all(t["id"] != mine.pk for t in listed["items"])
    assert_error_shape(client.delete(f"/api/v1/tokens/{mine.pk}", **bearer(other_token)), 404, "not_found")
    mine.refresh_from_db()
    assert mine.revoked_at is None


def test_another_users_session_cannot_revoke_my_token(user, other_user):
    mine, _ = api_token_create(user=user, name="mine")
    intruder = Client()
    intruder.force_login(other_user)
    assert_error_shape(intruder.delete(f"/api/v1/tokens/{mine.pk}"), 404, "not_found")


def test_create_list_and_revoke_tokens(client, user, token):
    response = client.post("/api/v1/tokens", {"name": "laser PC"}, content_type="application/json", **bearer(token))
    assert response.status_code == 201
    created = response.json()
    assert created["token"].startswith("itg_") and created["prefix"] == created["token"][:12]
    assert not ApiToken.objects.filter(digest=created["token"]).exists()  # stored hashed

    assert client.get("/api/v1/me", **bearer(created["token"])).status_code == 200
    listed = client.get("/api/v1/tokens", **bearer(token)).json()
    assert listed["count"] == 2 and all("token" not in item for item in listed["items"])

    assert client.delete(f"/api/v1/tokens/{created['id']}", **bearer(token)).status_code == 204
    assert_error_shape(client.get("/api/v1/me", **bearer(created["token"])), 401, "not_authenticated")


def test_validation_errors_name_the_field(client, token):
    body = assert_error_shape(
        client.post("/api/v1/tokens", {"name": ""}, content_type="application/json", **bearer(token)),
        422,
        "validation_error",
    )
    assert any("name" in detail["loc"] for detail in body["error"]["details"])


def test_malformed_json_is_a_400(client, token):
    response = client.post("/api/v1/tokens", "{not json", content_type="application/json", **bearer(token))
    assert_error_shape(response, 400, "bad_request")


def test_unknown_api_path_is_a_404_in_the_error_shape(client, token):
    assert_error_shape(client.get("/api/v1/nothing-here", **bearer(token)), 404, "not_found")


def test_session_calls_need_the_csrf_token(csrf_client, user):
    csrf_client.force_login(user)
    response = csrf_client.post("/api/v1/tokens", {"name": "x"}, content_type="application/json")
    assert_error_shape(response, 403, "csrf_failed")
    assert not ApiToken.objects.exists()
    # With the token from a page, as htmx sends it, the call goes through.
    csrf_client.get("/account/")
    csrf = csrf_client.cookies["csrftoken"].value
    response = csrf_client.post("/api/v1/tokens", {"name": "x"}, content_type="application/json", HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == 201


def test_list_limit_is_capped(client, user, token):
    for i in range(105):
        api_token_create(user=user, name=f"t{i}")
    assert_error_shape(client.get("/api/v1/tokens?limit=1000", **bearer(token)), 422, "validation_error")
    assert_error_shape(client.get(f"/api/v1/tokens?offset={2**63}", **bearer(token)), 422, "validation_error")
    assert len(client.get("/api/v1/tokens?limit=100", **bearer(token)).json()["items"]) == 100
    full = client.get("/api/v1/tokens?limit=100&offset=100", **bearer(token)).json()
    assert full["count"] == 106 and len(full["items"]) == 6
    default = client.get("/api/v1/tokens", **bearer(token)).json()
    assert len(default["items"]) == 20


@override_settings(API_RATE="3/m")
def test_api_rate_limit_answers_429_with_retry_after(client, token):
    statuses = [client.get("/api/v1/me", **bearer(token)).status_code for _ in range(4)]
    assert statuses[:3] == [200, 200, 200]
    response = client.get("/api/v1/me", **bearer(token))
    assert_error_shape(response, 429, "rate_limited")
    assert int(response["Retry-After"]) > 0


def test_openapi_documents_every_error_status_on_every_operation(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.1")
    operations = [op for item in schema["paths"].values() for op in item.values()]
    assert len(operations) >= 4
    for operation in operations:
        for status in ("400", "401", "403", "404", "422", "429"):
            assert operation["responses"][status]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorOut"
            }
    assert "ErrorOut" in schema["components"]["schemas"]


def test_unsupported_method_is_a_405_in_the_error_shape(client, token):
    response = client.put("/api/v1/me", **bearer(token))
    assert_error_shape(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]
