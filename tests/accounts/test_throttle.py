"""Password attempts are throttled per (account, client), per client and per account, with a clear message, and
logged; the count is exact under concurrency, covers the admin's login, and never locks the owner out."""

import json
import logging
import threading

import pytest
from django.core import mail
from django.db import connections
from django.test import Client, override_settings

from tests.factories import PASSWORD, email_link, make_user

pytestmark = pytest.mark.django_db


def _fail(client, email, ip="203.0.113.7"):
    return client.post("/login/", {"username": email, "password": "wrong password!"}, REMOTE_ADDR=ip)


def test_eleventh_failed_login_in_a_minute_is_refused_and_logged(client, user, caplog):
    for _ in range(10):
        response = _fail(client, user.email)
        assert b"do not match an account" in response.content
    caplog.set_level(logging.WARNING, logger="intaglio.security")
    response = client.post("/login/", {"username": user.email, "password": PASSWORD}, REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 200
    assert b"Too many failed log-in attempts for this account" in response.content
    assert b"try again in" in response.content
    assert "_auth_user_id" not in client.session  # even the right password waits out the window

    records = [r for r in caplog.records if r.getMessage() == "login.throttled"]
    assert len(records) == 1 and records[0].scope == "account-client"
    assert user.email not in json.dumps(vars(records[0]), default=str)  # logged by digest, not address


def test_one_clients_guesses_do_not_lock_the_owner_out(client, user):
    for _ in range(15):
        _fail(client, user.email, ip="198.51.100.66")
    assert b"for this account from your network address" in _fail(client, user.email, ip="198.51.100.66").content
    owner = Client()
    response = owner.post("/login/", {"username": user.email, "password": PASSWORD}, REMOTE_ADDR="192.0.2.10")
    assert response.status_code == 302 and "_auth_user_id" in owner.session


@override_settings(LOGIN_FAILURES_PER_ACCOUNT=12)
def test_guesses_from_many_addresses_pause_password_login_but_the_owner_gets_in_by_link(user):
    attacker = Client()
    for i in range(12):
        assert b"do not match" in _fail(attacker, user.email, ip=f"198.51.100.{i}").content
    for i in range(12, 20):
        assert b"password log-in is paused" in _fail(attacker, user.email, ip=f"198.51.100.{i}").content

    owner = Client()
    refused = owner.post("/login/", {"username": user.email, "password": PASSWORD}, REMOTE_ADDR="192.0.2.10")
    assert b"password log-in is paused" in refused.content and b"/login/link/" in refused.content
    assert "_auth_user_id" not in owner.session

    owner.post("/login/link/", {"email": user.email}, REMOTE_ADDR="192.0.2.10")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [user.email]
    link = email_link(mail.outbox[0], "/login/link/")
    assert owner.get(link).status_code == 200 and "_auth_user_id" not in owner.session  # opening it spends nothing
    assert owner.post(link).status_code == 302
    assert int(owner.session["_auth_user_id"]) == user.pk

    # Single use: the same link does not sign anyone in again.
    again = Client()
    again.post(link)
    assert "_auth_user_id" not in again.session


@override_settings(LOGIN_FAILURES_PER_IP=5)
def test_one_address_trying_many_accounts_is_throttled(client):
    for i in range(5):
        _fail(client, f"victim{i}@example.com")
    response = _fail(client, "victim-next@example.com")
    assert b"for your network address" in response.content
    # Another address is unaffected.
    assert b"do not match" in _fail(Client(), "victim-next@example.com", ip="192.0.2.1").content


@override_settings(LOGIN_THROTTLE_WINDOW=60)
def test_throttle_lifts_when_the_window_passes(client, user, monkeypatch):
    from intaglio.core import ratelimit

    now = [ratelimit._clock()]
    monkeypatch.setattr(ratelimit, "_clock", lambda: now[0])
    for _ in range(10):
        _fail(client, user.email)
    assert b"Too many" in _fail(client, user.email).content
    now[0] += 61
    response = client.post("/login/", {"username": user.email, "password": PASSWORD}, REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 302


def test_successful_login_clears_the_account_failures(client, user):
    for _ in range(9):
        _fail(client, user.email)
    client.post("/login/", {"username": user.email, "password": PASSWORD}, REMOTE_ADDR="203.0.113.7")
    client.post("/logout/")
    for _ in range(9):
        _fail(client, user.email, ip="203.0.113.8")
    response = client.post("/login/", {"username": user.email, "password": PASSWORD}, REMOTE_ADDR="203.0.113.8")
    assert response.status_code == 302


@pytest.mark.django_db(transaction=True)
@override_settings(LOGIN_FAILURES_PER_ACCOUNT_CLIENT=10)
def test_simultaneous_wrong_passwords_are_checked_exactly_up_to_the_limit(monkeypatch):
    from django.contrib.auth import forms as auth_forms

    user = make_user()
    checked, lock = [], threading.Lock()
    real_authenticate = auth_forms.authenticate

    def counting_authenticate(*args, **kwargs):
        with lock:
            checked.append(1)
        return real_authenticate(*args, **kwargs)

    monkeypatch.setattr(auth_forms, "authenticate", counting_authenticate)
    start, answers = threading.Barrier(40), []

    def guess():
        try:
            start.wait()
            answers.append(_fail(Client(), user.email).content)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=guess) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(answers) == 40
    assert len(checked) == 10
    assert sum(b"Too many failed log-in attempts" in body for body in answers) == 30


def test_admin_login_is_throttled_like_the_site(client):
    staff = make_user(is_staff=True, is_superuser=True)
    for _ in range(30):
        client.post(
            "/admin/login/", {"username": staff.email, "password": "wrong password!"}, REMOTE_ADDR="203.0.113.9"
        )
    response = client.post(
        "/admin/login/", {"username": staff.email, "password": PASSWORD, "next": "/admin/"}, REMOTE_ADDR="203.0.113.9"
    )
    assert response.status_code == 200
    assert b"Too many failed log-in attempts" in response.content
    assert "_auth_user_id" not in client.session


def test_admin_login_still_works_for_the_right_password(client):
    staff = make_user(is_staff=True, is_superuser=True)
    response = client.post(
        "/admin/login/", {"username": staff.email, "password": PASSWORD, "next": "/admin/"}, REMOTE_ADDR="203.0.113.9"
    )
    assert response.status_code == 302 and int(client.session["_auth_user_id"]) == staff.pk


@override_settings(SIGN_IN_LINK_SECONDS=60)
def test_sign_in_link_expires_and_is_stored_only_as_a_digest(client, user, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from intaglio.accounts.models import SignInLink

    client.post("/login/link/", {"email": user.email})
    link = email_link(mail.outbox[0], "/login/link/")
    secret = link.rstrip("/").rsplit("/", 1)[1]
    stored = SignInLink.objects.get(user=user)
    assert secret not in stored.digest and len(stored.digest) == 64

    later = timezone.now() + timedelta(seconds=61)
    monkeypatch.setattr(timezone, "now", lambda: later)
    client.post(link)
    assert "_auth_user_id" not in client.session


def test_sign_in_link_for_an_unknown_address_is_answered_the_same_and_sends_nothing(client, user):
    known = client.post("/login/link/", {"email": user.email})
    unknown = Client().post("/login/link/", {"email": "nobody@example.com"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert [m.to for m in mail.outbox] == [[user.email]]
