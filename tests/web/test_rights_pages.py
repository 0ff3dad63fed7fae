"""The data-rights pages: /account/data/ (export, restriction, requests, erasure) and the request form for people
who cannot log in, /privacy/request/ (E15)."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from intaglio.accounts.models import User
from intaglio.credits.services import credits_grant_monthly
from intaglio.privacy import rights
from intaglio.privacy import rights as account_services
from intaglio.privacy.models import AccessCode, DataRequest
from tests.factories import PASSWORD, jpeg_bytes, make_user

pytestmark = pytest.mark.django_db


def code_from(message) -> str:
    match = re.search(r"^\s+(\d{6})\s*$", message.body, re.MULTILINE)
    assert match, message.body
    return match.group(1)


def make_officer() -> User:
    officer = make_user(is_staff=True)
    group, _ = Group.objects.get_or_create(name="Privacy officer")
    group.permissions.add(*Permission.objects.filter(content_type__app_label="privacy"))
    officer.groups.add(group)
    return officer


# ------------------------------------------------------------------------------------------------ /account/data/


def test_data_page_needs_login(client):
    response = client.get(reverse("data-rights"))
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert client.post(reverse("data-rights-export")).status_code == 302
    assert reverse("data-rights") == "/account/data/"


def test_J24_download_my_data_from_the_page(logged_in, user):
    credits_grant_monthly(user=user, period="2026-11")
    page = logged_in.get(reverse("data-rights"))
    assert page.status_code == 200 and b"Download my data" in page.content
    assert logged_in.get(reverse("data-rights-export")).status_code == 405  # a POST: it records a request

    response = logged_in.post(reverse("data-rights-export"))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="intaglio-data-')
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["subject"]["email"] == user.email and manifest["sections"]["ledger_entries"]["records"]
    # The request is listed on the page with its dates.
    page = logged_in.get(reverse("data-rights"))
    request = DataRequest.objects.get(user=user)
    assert f"#{request.pk} Access / export".encode() in page.content and b"Completed" in page.content


def test_data_page_forms_are_csrf_protected(csrf_client, user):
    csrf_client.force_login(user)
    assert csrf_client.post(reverse("data-rights-export")).status_code == 403
    assert csrf_client.post(reverse("data-rights-restrict"), {"restricted": "1"}).status_code == 403
    assert not DataRequest.objects.exists()


def test_J27_restrict_and_lift_from_the_page(logged_in, user):
    response = logged_in.post(reverse("data-rights-restrict"), {"restricted": "1"}, follow=True)
    assert b"Processing is restricted" in response.content and b"Lift the restriction" in response.content
    user.refresh_from_db()
    assert user.restricted

    upload = logged_in.post(
        reverse("upload"),
        {"file": SimpleUploadedFile("a.jpg", jpeg_bytes(), content_type="image/jpeg")},
        HTTP_ACCEPT="application/json",
    )
    assert upload.status_code == 403
    error = upload.json()["error"]
    assert error["code"] == "restricted" and "restrict" in error["message"]

    response = logged_in.post(reverse("data-rights-restrict"), {"restricted": "0"}, follow=True)
    assert b"restriction is lifted" in response.content
    user.refresh_from_db()
    assert not user.restricted
    assert list(DataRequest.objects.filter(user=user).values_list("kind", "status")) == [
        ("restrict", "completed"),
        ("restrict", "completed"),
    ]


def test_J29_my_requests_are_listed_with_their_due_dates(logged_in, user):
    response = logged_in.post(reverse("data-rights-ask"), {"kind": "object", "details": "No newsletters please"})
    assert response.status_code == 302
    request = DataRequest.objects.get(user=user)
    page = logged_in.get(reverse("data-rights")).content.decode()
    assert f"#{request.pk} Objection" in page
    assert request.due_at.strftime("%Y-%m-%d") in page  # the machine-readable due date
    assert "Received" in page and "No newsletters please" in page


def test_J26_erase_page_needs_the_password_then_erases_and_signs_out(logged_in, user, mailoutbox):
    page = logged_in.get(reverse("data-rights-erase"))
    assert page.status_code == 200 and b"billing records, kept 6 years" in page.content.lower()

    wrong = logged_in.post(reverse("data-rights-erase"), {"current_password": "nope", "confirm": "on"})
    assert wrong.status_code == 400 and b"password is not correct" in wrong.content
    unconfirmed = logged_in.post(reverse("data-rights-erase"), {"current_password": PASSWORD})
    assert unconfirmed.status_code == 400
    assert User.objects.filter(pk=user.pk).exists()

    response = logged_in.post(reverse("data-rights-erase"), {"current_password": PASSWORD, "confirm": "on"})
    assert response.status_code == 302 and response["Location"] == reverse("data-rights-erased")
    assert not User.objects.filter(pk=user.pk).exists()
    assert logged_in.get(reverse("data-rights")).status_code == 302  # signed out
    done = logged_in.get(reverse("data-rights-erased"))
    assert done.status_code == 200 and b"Your account is erased" in done.content
    assert mailoutbox[-1].to == [user.email]


# --------------------------------------------------------------------------------------------- /privacy/request/


def test_E15_request_form_reaches_the_privacy_officer(client, user, mailoutbox, django_capture_on_commit_callbacks):
    officer = make_officer()
    form_url = reverse("data-request-form")
    assert form_url == "/privacy/request/"
    assert client.get(form_url).status_code == 200  # no login needed

    response = client.post(form_url, {"email": user.email.upper()})
    assert response.status_code == 302 and response["Location"] == reverse("data-request-verify")
    (code_mail,) = mailoutbox
    assert code_mail.to == [user.email]
    code = code_from(code_mail)

    # The e-mails to the officers and the requester go once the request's row is committed.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("data-request-verify"),
            {"code": code, "kind": "access", "details": "I lost my password and my phone"},
        )
    assert response.status_code == 302 and response["Location"] == reverse("data-request-done")
    request = DataRequest.objects.get()
    assert (request.channel, request.kind, request.user_id, request.email) == (
        "request_form",
        "access",
        user.pk,
        user.email,
    )
    assert request.due_at == rights.data_request_due(request.received_at)
    done = client.get(reverse("data-request-done"))
    assert f"#{request.pk}".encode() in done.content

    # The officer is told (the e-mail links to the queue, without the details), and sees it in the queue.
    officer_mail = next(m for m in mailoutbox if m.to == [officer.email])
    assert f"/admin/privacy/datarequest/{request.pk}/change/" in officer_mail.body
    assert "lost my password" not in officer_mail.body
    assert any(m.to == [user.email] and "received" in m.subject for m in mailoutbox)
    desk = Client()
    desk.force_login(officer)
    queue = desk.get("/admin/privacy/datarequest/?due=open")
    assert request in queue.context["cl"].result_list
    detail = desk.get(f"/admin/privacy/datarequest/{request.pk}/change/")
    assert b"I lost my password and my phone" in detail.content


def test_E15_the_form_says_the_same_whether_or_not_an_account_uses_the_address(user, mailoutbox):
    def walk(email: str) -> str:
        browser = Client()
        browser.post(reverse("data-request-form"), {"email": email})
        page = browser.get(reverse("data-request-verify")).content.decode()
        page = page.replace(email, "EMAIL")
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"|"X-CSRFToken": "[^"]+"', "TOKEN", page)

    assert walk(user.email) == walk("nobody-here@example.com")
    assert [m.to for m in mailoutbox] == [[user.email]]  # a code goes only to an existing account
    assert AccessCode.objects.count() == 1


def test_E15_closed_accounts_can_still_ask(client, user, mailoutbox):
    account_services.user_close(user=user, password=PASSWORD)
    client.post(reverse("data-request-form"), {"email": user.email})
    code = code_from(next(m for m in mailoutbox if "code" in m.subject))
    client.post(reverse("data-request-verify"), {"code": code, "kind": "erase", "details": ""})
    assert DataRequest.objects.get().kind == "erase"


def test_E15_only_a_digest_of_the_code_is_stored_and_it_works_once(client, user, mailoutbox):
    client.post(reverse("data-request-form"), {"email": user.email})
    code = code_from(mailoutbox[0])
    access = AccessCode.objects.get()
    assert code not in access.code_digest and len(access.code_digest) == 64
    assert access.expires_at - access.created_at == timedelta(minutes=15)
    client.post(reverse("data-request-verify"), {"code": code, "kind": "access"})
    assert DataRequest.objects.count() == 1

    second = Client()
    second.post(reverse("data-request-form"), {"email": user.email})
    # The first code is spent: it opens nothing.
    session = second.session
    session["rights_request_email"] = user.email
    session.save()
    response = second.post(reverse("data-request-verify"), {"code": code, "kind": "access"})
    assert response.status_code == 400 and DataRequest.objects.count() == 1


def test_E15_the_code_expires_after_15_minutes(client, user, mailoutbox):
    client.post(reverse("data-request-form"), {"email": user.email})
    code = code_from(mailoutbox[0])
    AccessCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.post(reverse("data-request-verify"), {"code": code, "kind": "access"})
    assert response.status_code == 400 and b"has expired" in response.content
    assert not DataRequest.objects.exists()


def test_E15_five_wrong_codes_spend_the_code(client, user, mailoutbox):
    client.post(reverse("data-request-form"), {"email": user.email})
    code = code_from(mailoutbox[0])
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(rights.ACCESS_CODE_MAX_ATTEMPTS):
        response = client.post(reverse("data-request-verify"), {"code": wrong, "kind": "access"})
        assert response.status_code == 400 and b"not right" in response.content
    assert AccessCode.objects.get().attempts == rights.ACCESS_CODE_MAX_ATTEMPTS
    response = client.post(reverse("data-request-verify"), {"code": code, "kind": "access"})
    assert response.status_code == 400
    assert not DataRequest.objects.exists()


def test_E15_asking_for_codes_is_throttled_per_address(client, user, mailoutbox):
    allowed, _window = rights.CODE_SENDS_PER_ADDRESS
    for _ in range(allowed):
        assert client.post(reverse("data-request-form"), {"email": user.email}).status_code == 302
    response = client.post(reverse("data-request-form"), {"email": user.email})
    assert response.status_code == 400 and b"try again in" in response.content
    assert len(mailoutbox) == allowed
    # Throttled the same way for an address with no account: the limit reveals nothing either.
    for _ in range(allowed):
        client.post(reverse("data-request-form"), {"email": "ghost@example.com"})
    assert b"try again in" in client.post(reverse("data-request-form"), {"email": "ghost@example.com"}).content


def test_E15_the_code_page_needs_the_first_step(client):
    response = client.get(reverse("data-request-verify"))
    assert response.status_code == 302 and response["Location"] == reverse("data-request-form")
