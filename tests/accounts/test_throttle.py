"""Failed logins are throttled per account and per client address, with a clear message, and logged."""

import json
import logging

import pytest
from django.test import Client, override_settings

from tests.factories import PASSWORD

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
    assert len(records) == 1 and records[0].scope == "account"
    assert user.email not in json.dumps(vars(records[0]), default=str)  # logged by digest, not address


def test_account_throttle_holds_across_addresses(client, user):
    for i in range(10):
        _fail(client, user.email, ip=f"198.51.100.{i}")
    response = _fail(client, user.email, ip="192.0.2.99")
    assert b"for this account" in response.content


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
    from intaglio.accounts import throttle

    now = [throttle._clock()]
    monkeypatch.setattr(throttle, "_clock", lambda: now[0])
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
