"""Sign-up, verification, login, password reset, e-mail and password changes, closure: through the pages."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client

from intaglio.accounts.models import ApiToken, User
from tests.factories import PASSWORD, email_link, make_user

pytestmark = pytest.mark.django_db


def test_sign_up_sends_verification_and_the_link_signs_in(client, mailoutbox):
    response = client.post("/signup/", {"email": " New.Maker@Example.com ", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/signup/done/"
    user = User.objects.get()
    assert user.email == "new.maker@example.com"
    assert not user.email_verified
    assert user.password.startswith("argon2")
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["new.maker@example.com"]

    assert SESSION_KEY not in client.session  # not signed in before the address is proved
    response = client.get(email_link(mailoutbox[0], "/verify-email/"))
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    user.refresh_from_db()
    assert user.email_verified
    assert client.get("/dashboard/").status_code == 200

    # The link is spent: opening it again does not verify anything new and says so.
    again = Client().get(email_link(mailoutbox[0], "/verify-email/"), follow=True)
    assert b"already confirmed" in again.content


def test_sign_up_with_taken_address_reveals_nothing_and_creates_nothing(client, mailoutbox):
    make_user(email="taken@example.com")
    response = client.post("/signup/", {"email": "taken@example.com", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/signup/done/"
    assert User.objects.count() == 1
    assert "already has one" in mailoutbox[0].body


@pytest.mark.parametrize(
    ("email", "password", "error"),
    [
        ("not-an-email", PASSWORD, b"Enter a valid email address"),
        ("a@example.com", "short", b"too short"),
        ("b@example.com", "password123", b"too common"),
    ],
)
def test_sign_up_rejects_bad_input_with_a_clear_message(client, email, password, error):
    response = client.post("/signup/", {"email": email, "password": password})
    assert response.status_code == 200
    assert error in response.content
    assert not User.objects.exists()


def test_forged_verification_link_is_refused(client):
    user = make_user(verified=False)
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    uid = urlsafe_base64_encode(force_bytes(user.pk))
    response = client.get(f"/verify-email/{uid}/abc-123/", follow=True)
    assert b"invalid or has expired" in response.content
    user.refresh_from_db()
    assert not user.email_verified
    assert SESSION_KEY not in client.session


def test_unverified_account_cannot_log_in_until_confirmed(client, mailoutbox):
    make_user(email="pending@example.com", verified=False)
    response = client.post("/login/", {"username": "pending@example.com", "password": PASSWORD})
    assert response.status_code == 200
    assert b"confirm your e-mail address first" in response.content
    client.post("/verify-email/resend/", {"email": "pending@example.com"})
    assert mailoutbox and "/verify-email/" in mailoutbox[-1].body


def test_log_in_and_out(client, user):
    response = client.post("/login/", {"username": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200
    assert client.get("/logout/").status_code == 405  # logging out is a POST (CSRF-protected)
    client.post("/logout/")
    response = client.get("/dashboard/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_wrong_password_is_refused_with_a_clear_message(client, user):
    response = client.post("/login/", {"username": user.email, "password": "not it at all"})
    assert response.status_code == 200
    assert b"do not match an account" in response.content
    assert SESSION_KEY not in client.session


def test_password_reset_by_email(client, user, mailoutbox):
    response = client.post("/password-reset/", {"email": user.email})
    assert response.status_code == 302
    link = email_link(mailoutbox[0], "/password-reset/")
    response = client.get(link)  # Django moves the token into the session and redirects
    assert response.status_code == 302
    set_url = response["Location"]
    response = client.post(
        set_url, {"new_password1": "a brand new secret 77", "new_password2": "a brand new secret 77"}
    )
    assert response.status_code == 302 and response["Location"] == "/password-reset/complete/"
    user.refresh_from_db()
    assert user.check_password("a brand new secret 77")


def test_password_reset_for_unknown_address_looks_the_same(client, mailoutbox):
    response = client.post("/password-reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302 and response["Location"] == "/password-reset/sent/"
    assert mailoutbox == []


def test_change_email_needs_the_current_password_and_a_confirmation(logged_in, user, mailoutbox):
    response = logged_in.post("/account/email/", {"new_email": "moved@example.com", "current_password": "wrong one"})
    assert response.status_code == 400
    assert b"current password is not correct" in response.content
    assert mailoutbox == []

    response = logged_in.post("/account/email/", {"new_email": "moved@example.com", "current_password": PASSWORD})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email != "moved@example.com"  # nothing changes before the new address confirms
    assert mailoutbox[0].to == ["moved@example.com"]

    old_email = user.email
    logged_in.get(email_link(mailoutbox[0], "/account/email/confirm/"))
    user.refresh_from_db()
    assert user.email == "moved@example.com"
    assert mailoutbox[-1].to == [old_email]  # the old address is told
    # The link is single-use: it was bound to the old address.
    response = logged_in.get(email_link(mailoutbox[0], "/account/email/confirm/"), follow=True)
    assert b"invalid or has expired" in response.content


def test_change_password_keeps_this_session_and_ends_the_others(user):
    here, elsewhere = Client(), Client()
    here.force_login(user)
    elsewhere.force_login(user)
    response = here.post(
        "/account/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "another good secret 9",
            "new_password2": "another good secret 9",
        },
    )
    assert response.status_code == 302
    assert here.get("/dashboard/").status_code == 200
    assert elsewhere.get("/dashboard/").status_code == 302


def test_close_account_disables_login_and_ends_every_session_at_once(user, token):
    here, elsewhere = Client(), Client()
    here.force_login(user)
    elsewhere.force_login(user)
    response = here.post("/account/close/", {"current_password": PASSWORD, "confirm": "on"})
    assert response.status_code == 302 and response["Location"] == "/account/closed/"

    user.refresh_from_db()
    assert not user.is_active and user.closed_at is not None
    assert elsewhere.get("/dashboard/").status_code == 302
    assert elsewhere.get("/api/v1/me").status_code == 401
    assert Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    assert not ApiToken.objects.filter(user=user, revoked_at__isnull=True).exists()
    response = Client().post("/login/", {"username": user.email, "password": PASSWORD})
    assert SESSION_KEY not in response.client.session


def test_close_account_needs_password_and_confirmation(logged_in, user):
    response = logged_in.post("/account/close/", {"current_password": PASSWORD})
    assert response.status_code == 400 and b"This field is required" in response.content
    response = logged_in.post("/account/close/", {"current_password": "nope", "confirm": "on"})
    assert response.status_code == 400 and b"current password is not correct" in response.content
    user.refresh_from_db()
    assert user.is_active


def test_api_token_is_shown_once_and_stored_hashed(logged_in, user):
    response = logged_in.post("/account/tokens/", {"name": "LightBurn"})
    assert response.status_code == 302
    page = logged_in.get("/account/").content.decode()
    token = ApiToken.objects.get(user=user)
    secret = page.split('id="new-token-value" class="token-value" type="text" readonly value="')[1].split('"')[0]
    assert secret.startswith("itg_") and len(secret) > 40
    assert secret not in token.digest and token.digest != secret
    assert secret not in logged_in.get("/account/").content.decode()  # shown once

    response = logged_in.post(f"/account/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    assert Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401


def test_another_users_token_cannot_be_revoked(logged_in, other_user):
    from intaglio.accounts.services import api_token_create

    theirs, _ = api_token_create(user=other_user, name="theirs")
    assert logged_in.post(f"/account/tokens/{theirs.pk}/revoke/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_forms_are_csrf_protected(csrf_client, user):
    response = csrf_client.post("/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 403
    assert b"This form has expired" in response.content


@pytest.mark.parametrize("path", ["/", "/signup/", "/login/", "/password-reset/", "/verify-email/resend/"])
def test_public_pages_render(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert b"<main" in response.content


@pytest.mark.parametrize("path", ["/dashboard/", "/account/"])
def test_private_pages_need_login(client, path):
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")
