"""The privacy notice and cookie page generated from live configuration, and policy versions with the material-change
e-mail (E15, E16, J6, J7, J12, J14, J19, J32)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from intaglio.core.models import AuditEvent
from intaglio.ops.logging import REQUEST_LOG_FIELDS
from intaglio.privacy.models import ConsentScope, PolicyNotification, PolicyVersion
from intaglio.privacy.notice import (
    CONSENT_SCOPE_DETAILS,
    DATA_FLOWS,
    PURPOSE_KEYS,
    PURPOSES,
    PolicyPublishError,
    policy_publish,
    privacy_contact_email,
    retention_rows,
)
from tests.factories import make_user

pytestmark = pytest.mark.django_db

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"
REGISTRY = [
    {
        "name": "Pixelforge Render Co.",
        "purpose": "Generates jewellery images from your references",
        "data": "Signed reference image links and the prompt",
        "region": "European Union",
        "hosts": ["api.pixelforge.example"],
    },
    {
        "name": "Gemsight Vision",
        "purpose": "Recognises metal and stones in reference images",
        "data": "Signed reference image links",
        "region": "United Kingdom",
        "hosts": ["vision.gemsight.example"],
    },
]


def page_text(response) -> str:
    """The visible text of a page, whitespace collapsed, entities decoded."""
    body = response.content.decode()
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", body, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


def notice(client):
    response = client.get("/privacy/")
    assert response.status_code == 200
    return response, page_text(response)


# ------------------------------------------------------------------------------------------- purposes (J6)


def test_J6_every_data_flow_declares_exactly_one_of_the_five_purposes():
    assert {"service", "security", "messages", "abuse", "legal"} == PURPOSE_KEYS
    titles = " ".join(f"{p.key} {p.title} {p.description}" for p in PURPOSES).lower()
    for forbidden in ("marketing", "advertis", "sell", "sale", "resale", "training", "profil"):
        assert forbidden not in titles, forbidden
    retention_keys = {row.key for row in retention_rows()}
    assert len({flow.key for flow in DATA_FLOWS}) == len(DATA_FLOWS)
    for flow in DATA_FLOWS:
        assert isinstance(flow.purpose, str) and flow.purpose in PURPOSE_KEYS, flow
        assert flow.retention == "" or flow.retention in retention_keys, flow


def test_J6_the_notice_renders_each_purpose_and_each_flow(client):
    _, text = notice(client)
    for purpose in PURPOSES:
        assert purpose.title in text and purpose.description in text
    for flow in DATA_FLOWS:
        assert flow.data in text


# ------------------------------------------------------------------------- commitments (J7, J14, E2, E10)


def test_J7_J14_the_notice_promises_no_sale_and_no_training_on_jewellery_content(client):
    _, text = notice(client)
    assert "We never sell personal data." in text
    assert "never train any model" in text
    assert "Jewellery reference images, prompts and results are never used for learning" in text


def test_E10_every_consent_scope_is_explained_and_shown_off_by_default(client):
    assert set(CONSENT_SCOPE_DETAILS) == {scope.value for scope in ConsentScope}
    response, text = notice(client)
    for scope in ConsentScope:
        assert scope.label in text
        assert CONSENT_SCOPE_DETAILS[scope.value] in text
    assert "Every one of them is off until you switch it on" in text
    assert response.content.decode().count('<span class="doc-off">Off</span>') == len(ConsentScope)


# --------------------------------------------------------------------------- generated from configuration


def test_E3_J20_J23_the_retention_table_renders_every_retention_setting(client, settings):
    from django.conf import settings as live

    retention_settings = {name for name in dir(live) if name.startswith("RETENTION_")}
    used = {name for row in retention_rows() for name in row.settings}
    assert retention_settings <= used, f"not on the notice: {sorted(retention_settings - used)}"

    settings.RETENTION_UPLOAD_AFTER_JOB_DAYS = 41
    settings.RETENTION_UNATTACHED_UPLOAD_HOURS = 7
    settings.RETENTION_PRIVATE_FEEDBACK_DAYS = 11
    settings.RETENTION_REQUEST_LOG_DAYS = 23
    settings.RETENTION_ACCOUNT_AFTER_CLOSURE_DAYS = 61
    settings.RETENTION_LEDGER_YEARS = 8
    settings.RETENTION_DATA_REQUEST_YEARS = 4
    settings.RETENTION_DERIVED_METRIC_DAYS = 400
    settings.RETENTION_CLOSED_CONTENT_HOURS = 12
    _, text = notice(client)
    for expected in (
        "41 days after the last job using the photo ends",
        "deleted after 7 hours",
        "11 days",
        "23 days",
        "plus 61 days after closure",
        "8 years",
        "4 years",
        "400 days",
        "within 12 hours",
    ):
        assert expected in text, expected


def test_J12_the_notice_lists_the_sub_processor_registry(client, settings):
    _, text = notice(client)
    assert "None at the moment." in text
    assert "sends personal data to no outside service" in text

    settings.SUBPROCESSORS = REGISTRY
    _, text = notice(client)
    assert "None at the moment." not in text
    for entry in REGISTRY:
        for field in ("name", "purpose", "data", "region"):
            assert entry[field] in text, (entry["name"], field)


def test_J12_a_malformed_registry_entry_is_a_configuration_error(client, settings):
    settings.SUBPROCESSORS = [{"name": "Somewhere", "purpose": "Stuff", "hosts": ["x.example"]}]
    with pytest.raises(ImproperlyConfigured, match="lacks data, region"):
        client.get("/privacy/")


def test_J5_the_notice_lists_the_request_log_fields_and_their_retention(client, settings):
    settings.RETENTION_REQUEST_LOG_DAYS = 19
    _, text = notice(client)
    for name, meaning in REQUEST_LOG_FIELDS.items():
        assert name in text and meaning in text
    assert "each file is deleted after 19 days" in text
    assert "Your IP address, browser and device are not written to the log" in text


# ------------------------------------------------------------------------------------------ contact (E15)


def test_E15_the_notice_names_a_privacy_contact_and_links_the_request_form(client, settings):
    settings.BASE_URL = "https://www.studio.example.com"
    assert privacy_contact_email() == "privacy@studio.example.com"
    response, text = notice(client)
    body = response.content.decode()
    assert 'href="mailto:privacy@studio.example.com"' in body
    assert 'href="/privacy/request/"' in body
    assert 'href="/account/data/"' in body
    assert "Open the request form" in text

    settings.PRIVACY_CONTACT_EMAIL = "dpo@makers.example"
    settings.PRIVACY_OPERATOR = "Makers Engraving Ltd"
    _, text = notice(client)
    assert "dpo@makers.example" in text
    assert "It is run by Makers Engraving Ltd , which decides how your data is handled" in text

    # A local address has no domain to write to: the sender's domain stands in.
    del settings.PRIVACY_CONTACT_EMAIL
    settings.BASE_URL = "http://127.0.0.1:8000"
    settings.DEFAULT_FROM_EMAIL = "Intaglio <no-reply@intaglio.local>"
    assert privacy_contact_email() == "privacy@intaglio.local"


def test_E15_every_page_footer_links_the_notice_cookies_and_the_request_form(logged_in):
    anonymous = Client()
    for who, path in ((anonymous, "/"), (anonymous, "/login/"), (logged_in, "/dashboard/"), (logged_in, "/account/")):
        body = who.get(path).content.decode()
        footer = body[body.index('<footer class="site-footer">') :]
        for href in ('href="/privacy/"', 'href="/cookies/"', 'href="/privacy/request/"'):
            assert href in footer, (path, href)


def test_the_notice_copies_no_sentence_from_the_seed_policies(client, settings):
    if not SEEDS.is_dir():
        pytest.skip(f"{SEEDS} is not here")
    settings.SUBPROCESSORS = REGISTRY
    pages = " ".join(page_text(client.get(path)).lower() for path in ("/privacy/", "/cookies/"))
    copied = []
    for seed in SEEDS.glob("*.txt"):
        for sentence in re.split(r"(?<=[.!?])\s+|\n", seed.read_text(encoding="utf-8")):
            words = re.findall(r"[a-z0-9']+", sentence.lower())
            # Every run of eight words in a row, so a lightly edited copy is caught too.
            for start in range(len(words) - 7):
                run = " ".join(words[start : start + 8])
                if run in " ".join(re.findall(r"[a-z0-9']+", pages)):
                    copied.append(run)
    assert not copied, copied


# ------------------------------------------------------------------------------------------ cookies (J19)


def test_J19_the_cookie_page_lists_every_configured_cookie_with_its_attributes(client, settings):
    response = client.get("/cookies/")
    assert response.status_code == 200
    text = page_text(response)
    for cookie in settings.COOKIES:
        assert cookie["name"] in text and cookie["purpose"] in text
    assert "2 weeks, or until you log out" in text  # from SESSION_COOKIE_AGE
    assert text.count("Hidden from scripts") == 2
    assert text.count("Not sent when other sites call ours") == 2

    settings.COOKIES = [
        *settings.COOKIES,
        {"name": "studio_pref", "purpose": "Remembers the studio you used last.", "lifetime": "30 days"},
    ]
    settings.CSRF_COOKIE_HTTPONLY = False
    settings.SESSION_COOKIE_AGE = 3 * 86400
    text = page_text(client.get("/cookies/"))
    assert "studio_pref" in text and "Remembers the studio you used last." in text and "30 days" in text
    assert "Readable by our own scripts" in text
    assert "3 days, or until you log out" in text


def test_J19_the_notice_and_cookie_page_are_public(client):
    for path in ("/privacy/", "/cookies/"):
        response = client.get(path)
        assert response.status_code == 200
        assert not response.cookies.get("sessionid")


# ------------------------------------------------------------------------------------- versions (E16, J32)


def test_E16_the_notice_shows_the_version_in_force_and_its_date(client):
    # A fresh install: its first migrate published version 1, dated that day.
    first = PolicyVersion.objects.get()
    response, text = notice(client)
    body = response.content.decode()
    assert (first.version, first.material) == ("1", False)
    assert re.search(r"<dt>Version</dt><dd>1</dd>", body)
    assert f">{first.published_at:%-d %B %Y}</time>" in body
    # The site was installed in 2024; later versions follow.
    PolicyVersion.objects.filter(pk=first.pk).update(published_at=datetime(2024, 11, 4, 8, 0, tzinfo=UTC))
    policy_publish(
        version="2025-01",
        summary="First version.",
        material=False,
        published_at=datetime(2025, 1, 6, 9, 0, tzinfo=UTC),
    )
    policy_publish(
        version="2025-05",
        summary="Clearer retention table.",
        material=False,
        published_at=datetime(2025, 5, 14, 23, 30, tzinfo=UTC),
    )
    policy_publish(
        version="2099-01",
        summary="Not in force yet.",
        material=False,
        published_at=timezone.now() + timedelta(days=30),
    )
    response, text = notice(client)
    body = response.content.decode()
    assert re.search(r"<dt>Version</dt><dd>2025-05</dd>", body)
    assert re.search(r"<dt>Last updated</dt><dd><time datetime=\"2025-05-14T23:30:00\+00:00\">14 May 2025</time>", body)
    history = text[text.index("Changes to this notice", text.index("Security")) :]
    assert history.index("Version 2025-05") < history.index("Version 2025-01")
    assert "Clearer retention table." in history and "First version." in history
    assert "2099-01" not in text
    # The cookie page carries the same version and date.
    assert "14 May 2025" in page_text(client.get("/cookies/"))


def open_and_closed_accounts():
    open_accounts = [make_user(), make_user(), make_user(verified=False), make_user(restricted=True)]
    closed = make_user(is_active=False, closed_at=timezone.now())
    closing = make_user(closed_at=timezone.now())  # closed, even if the flag has not caught up
    deactivated = make_user(is_active=False)
    return open_accounts, [closed, closing, deactivated]


def test_J32_a_material_version_emails_every_open_account_once(settings):
    settings.BASE_URL = "https://studio.example.com"
    open_accounts, others = open_and_closed_accounts()
    mail.outbox.clear()

    result = policy_publish(version="3", summary="We now use Pixelforge for generation & say so.", material=True)

    assert result.created and result.emailed == 4 and result.failed == 0 and result.already_told == 0
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in open_accounts)
    message = mail.outbox[0]
    assert message.subject == "Intaglio privacy notice updated: version 3"
    assert "We now use Pixelforge for generation & say so." in message.body  # not HTML-escaped
    assert "https://studio.example.com/privacy/" in message.body
    assert "https://studio.example.com/privacy/request/" in message.body
    assert set(PolicyNotification.objects.values_list("user_id", flat=True)) == {u.pk for u in open_accounts}
    assert not {m.to[0] for m in mail.outbox} & {u.email for u in others}

    again = policy_publish(version="3", summary="We now use Pixelforge for generation & say so.", material=True)
    assert not again.created and again.emailed == 0 and again.already_told == 4
    assert len(mail.outbox) == 4
    assert AuditEvent.objects.filter(action="policy.published", detail__version="3").count() == 1


def test_J32_a_minor_version_sends_nothing(client):
    make_user()
    mail.outbox.clear()
    result = policy_publish(version="3.1", summary="Typo fixes.", material=False)
    assert result.created and result.emailed == 0
    assert mail.outbox == [] and not PolicyNotification.objects.exists()
    assert "3.1" in page_text(client.get("/privacy/"))


def test_J32_accounts_opened_after_the_version_are_not_emailed():
    earlier = make_user(date_joined=timezone.now() - timedelta(days=3))
    policy = PolicyVersion.objects.create(
        version="4", summary="Earlier change.", material=True, published_at=timezone.now() - timedelta(days=2)
    )
    make_user()  # signed up under version 4 already
    mail.outbox.clear()
    result = policy_publish(version="4", summary="Earlier change.", material=True)
    assert result.policy == policy and result.emailed == 1
    assert [m.to for m in mail.outbox] == [[earlier.email]]


class InterruptedBackend(LocmemBackend):
    """Delivers `allow` messages, then the process 'dies' (KeyboardInterrupt is not an ordinary error)."""

    allow = 2

    def send_messages(self, messages):
        if len(mail.outbox) >= self.allow:
            raise KeyboardInterrupt
        return super().send_messages(messages)


class RefusingBackend(LocmemBackend):
    """Refuses one address, once (a full mailbox, a flaky relay)."""

    refuse: set[str] = set()

    def send_messages(self, messages):
        for message in messages:
            if message.to[0] in self.refuse:
                self.refuse.discard(message.to[0])
                raise ConnectionError("relay said no")
        return super().send_messages(messages)


def test_J32_an_interrupted_run_resumes_where_it_stopped_and_nobody_gets_two(settings):
    accounts = [make_user() for _ in range(5)]
    mail.outbox.clear()
    settings.EMAIL_BACKEND = f"{__name__}.InterruptedBackend"
    with pytest.raises(KeyboardInterrupt):
        policy_publish(version="5", summary="Material change.", material=True)
    assert len(mail.outbox) == 2
    assert PolicyNotification.objects.count() == 2  # the interrupted one left no record

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    result = policy_publish(version="5", summary="Material change.", material=True)
    assert result.emailed == 3 and result.already_told == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in accounts)


def test_J32_a_failed_send_is_counted_and_retried_by_the_next_run(settings):
    accounts = [make_user() for _ in range(3)]
    mail.outbox.clear()
    RefusingBackend.refuse = {accounts[1].email}
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    first = policy_publish(version="6", summary="Material change.", material=True)
    assert (first.emailed, first.failed) == (2, 1)
    assert accounts[1].email not in [m.to[0] for m in mail.outbox]

    second = policy_publish(version="6", summary="Material change.", material=True)
    assert (second.emailed, second.failed) == (1, 0)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in accounts)


def test_J32_a_published_version_cannot_be_rewritten():
    policy_publish(version="7", summary="What changed.", material=False)
    with pytest.raises(PolicyPublishError, match="Published versions do not change"):
        policy_publish(version="7", summary="Something else.", material=False)
    with pytest.raises(PolicyPublishError, match="Published versions do not change"):
        policy_publish(version="7", summary="What changed.", material=True)
    with pytest.raises(PolicyPublishError, match="Say in a sentence"):
        policy_publish(version="8", summary="  ", material=True)
    with pytest.raises(PolicyPublishError, match="at most 20 characters"):
        policy_publish(version="v" * 21, summary="Too long a name.", material=False)
    assert sorted(PolicyVersion.objects.values_list("version", flat=True)) == ["1", "7"]  # 1: the install's


def test_J32_the_command_publishes_and_a_second_run_sends_nothing_more():
    accounts = [make_user(), make_user()]
    mail.outbox.clear()
    out = StringIO()
    call_command("privacy_publish", "--version", "2025-06", "--material", "--summary", "New provider.", stdout=out)
    assert "Published version 2025-06 (material)" in out.getvalue()
    assert "E-mailed 2 account(s); 0 had already been told." in out.getvalue()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in accounts)

    out = StringIO()
    call_command("privacy_publish", "--version", "2025-06", "--material", "--summary", "New provider.", stdout=out)
    assert "already published" in out.getvalue() and "E-mailed 0 account(s); 2 had already been told." in out.getvalue()
    assert len(mail.outbox) == 2

    with pytest.raises(CommandError, match="Published versions do not change"):
        call_command("privacy_publish", "--version", "2025-06", "--summary", "Changed my mind.", stdout=StringIO())


# ------------------------------------------------------------------------ one version everywhere (E16, issue 19)


def test_E16_a_fresh_migrate_publishes_version_1_once(transactional_db):
    # The test database was built by `migrate`: version 1 is there, dated at that migrate, and e-mailed to nobody.
    assert list(PolicyVersion.objects.values_list("version", "material")) == [("1", False)]
    assert AuditEvent.objects.filter(action="policy.published", detail__version="1").count() == 1
    assert not PolicyNotification.objects.exists()
    call_command("migrate", verbosity=0)  # migrating again adds nothing
    assert PolicyVersion.objects.count() == 1
    # An install whose versions were all removed gets version 1 back on its next migrate.
    PolicyVersion.objects.all().delete()
    call_command("migrate", verbosity=0)
    assert list(PolicyVersion.objects.values_list("version", flat=True)) == ["1"]
    # A site with its own history keeps it: no version 1 is added beside it.
    PolicyVersion.objects.all().delete()
    PolicyVersion.objects.create(version="2026-05", summary="Ours.")
    call_command("migrate", verbosity=0)
    assert list(PolicyVersion.objects.values_list("version", flat=True)) == ["2026-05"]


def _named_everywhere(client, user, token, *, scope: str) -> dict[str, tuple[str, str]]:
    """(version, date) as the notice page, the cookie page, the consent page, a new consent record, the consent API
    and the export each name it."""
    from intaglio.privacy import rights
    from intaglio.privacy.consent import consent_grant
    from tests.privacy.test_export import open_export

    def meta(body: str) -> tuple[str, str]:
        version = re.search(r"<dt>Version</dt><dd>([^<]+)</dd>", body).group(1)
        date = re.search(r"<dt>Last updated</dt><dd><time datetime=\"([^\"]+)\"", body).group(1)
        return version, date[:10]

    client.force_login(user)
    consent_page = client.get("/account/privacy/").content.decode()
    badge = re.search(r"Privacy notice version ([^<\s]+) · <time datetime=\"([^\"]+)\"", consent_page)
    event = consent_grant(user=user, scope=scope, source="privacy_page")
    event_date = PolicyVersion.objects.get(version=event.notice_version).published_at.isoformat()
    api = Client().get("/api/v1/privacy/consents", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    _, manifest = open_export(rights.data_export(user=user))
    client.logout()
    return {
        "notice": meta(client.get("/privacy/").content.decode()),
        "cookies": meta(client.get("/cookies/").content.decode()),
        "consent page": (badge.group(1), badge.group(2)[:10]),
        "consent record": (event.notice_version, event_date[:10]),
        "api": (api["notice_version"], event_date[:10]),
        "export": (manifest["notice_version"], manifest["notice_published_at"][:10]),
    }


def test_E16_the_notice_the_consent_page_every_consent_record_and_the_export_name_the_same_version(client):
    from tests.factories import make_token

    user = make_user()
    token = make_token(user)
    first = PolicyVersion.objects.get()
    named = _named_everywhere(client, user, token, scope="derived_only")
    assert set(named.values()) == {("1", first.published_at.date().isoformat())}, named

    published = policy_publish(version="2026-12", summary="Gallery and review.", material=False)
    named = _named_everywhere(client, user, token, scope="internal_review")
    assert set(named.values()) == {("2026-12", published.policy.published_at.date().isoformat())}, named
