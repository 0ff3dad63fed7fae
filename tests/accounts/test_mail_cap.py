"""Account e-mails anyone can trigger by typing an address are capped per address per hour, and the pages answer
the same whether or not a message went out."""

import pytest
from django.core import mail
from django.test import override_settings

from tests.factories import make_user

pytestmark = pytest.mark.django_db


def _answer(response):
    return response.status_code, response.get("Location")


@override_settings(EMAILS_PER_ADDRESS_PER_HOUR=3)
def test_password_reset_mail_is_capped_per_address_and_answered_the_same(client, user):
    other = make_user()
    answers = {_answer(client.post("/password-reset/", {"email": user.email})) for _ in range(8)}
    assert answers == {(302, "/password-reset/sent/")}
    assert [m.to for m in mail.outbox] == [[user.email]] * 3
    client.post("/password-reset/", {"email": other.email})
    assert mail.outbox[-1].to == [other.email]  # the cap is per address


@override_settings(EMAILS_PER_ADDRESS_PER_HOUR=3)
def test_signing_up_again_with_a_taken_address_is_capped(client, user):
    answers = {
        _answer(client.post("/signup/", {"email": user.email, "password": "a long new passphrase 42"}))
        for _ in range(6)
    }
    assert answers == {(302, "/signup/done/")}
    assert len(mail.outbox) == 3 and all(m.to == [user.email] for m in mail.outbox)


@override_settings(EMAILS_PER_ADDRESS_PER_HOUR=3)
def test_verification_mail_is_capped_across_sign_up_and_resend(client):
    client.post("/signup/", {"email": "new@example.com", "password": "a long new passphrase 42"})
    answers = {_answer(client.post("/verify-email/resend/", {"email": "new@example.com"})) for _ in range(5)}
    assert answers == {(302, "/login/")}
    assert len(mail.outbox) == 3


@override_settings(EMAILS_PER_ADDRESS_PER_HOUR=2)
def test_email_change_confirmations_are_capped_for_the_new_address(logged_in, password):
    for _ in range(4):
        logged_in.post("/account/email/", {"new_email": "next@example.com", "current_password": password})
    assert [m.to for m in mail.outbox] == [["next@example.com"]] * 2


@override_settings(EMAILS_PER_ADDRESS_PER_HOUR=2)
def test_sign_in_links_are_capped_too(client, user):
    for _ in range(4):
        client.post("/login/link/", {"email": user.email})
    assert len(mail.outbox) == 2
