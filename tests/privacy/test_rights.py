"""Data-rights services: erasure (J26), restriction (J27), request deadlines and the privacy officer's queue (J29),
rectification through the account pages (J25)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.utils import timezone

from intaglio.accounts.models import User
from intaglio.assets.models import Asset
from intaglio.assets.storage import blob_exists
from intaglio.core.models import AuditEvent
from intaglio.credits.models import LedgerEntry
from intaglio.credits.services import credits_grant_monthly
from intaglio.jobs.models import Job
from intaglio.jobs.services import JobRefused, job_create, upload_photo
from intaglio.privacy import rights
from intaglio.privacy.models import ConsentEvent, DataRequest
from tests.factories import PASSWORD, email_link, jpeg_bytes, make_user
from tests.privacy.test_closure import content_left, make_stocked_account

pytestmark = pytest.mark.django_db
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def make_officer(**fields) -> User:
    """A staff member in the "Privacy officer" group, which may change data requests."""
    officer = make_user(is_staff=True, **fields)
    group, _ = Group.objects.get_or_create(name="Privacy officer")
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="privacy"),
    )
    officer.groups.add(group)
    return officer


# ------------------------------------------------------------------------------------------------------- J29


@pytest.mark.parametrize(
    ("received", "due"),
    [
        ("2026-01-31T10:00", "2026-02-28T10:00"),  # 31 Jan + 1 month = 28 Feb (28 days, under 30)
        ("2028-01-31T10:00", "2028-02-29T10:00"),  # leap year: 29 Feb
        ("2026-01-30T23:59", "2026-02-28T23:59"),  # 30 Jan: clamped to the end of February too
        ("2026-02-15T08:30", "2026-03-15T08:30"),  # February is short: the month ends first
        ("2026-03-31T12:00", "2026-04-30T12:00"),  # both rules give 30 April
        ("2026-07-31T09:00", "2026-08-30T09:00"),  # 31-day month: 30 days ends first
        ("2026-12-15T00:00", "2027-01-14T00:00"),  # across the year: 30 days ends first
        ("2026-12-31T18:00", "2027-01-30T18:00"),
    ],
)
def test_J29_due_date_is_the_earlier_of_30_days_and_one_calendar_month(received, due):
    assert rights.data_request_due(at(received)) == at(due)
    assert rights.data_request_due(at(received)) - at(received) <= timedelta(days=30)


def test_J29_every_request_gets_received_and_due_dates(user):
    received = at("2026-01-31T10:00")
    request = rights.data_request_create(
        kind="rectify", email=user.email, user=user, channel="self_service", details="Wrong plan", received_at=received
    )
    assert request.received_at == received and request.due_at == at("2026-02-28T10:00")
    event = AuditEvent.objects.get(action="data_request.received")
    assert event.target_id == str(request.pk) and event.subject_user_id == user.pk


def test_J29_self_service_requests_are_recorded_with_deadlines(user):
    rights.data_export(user=user)
    rights.restriction_set(user=user, on=True)
    rights.data_request_create(kind="object", email=user.email, user=user, channel="self_service", details="x")
    kinds = list(DataRequest.objects.filter(user=user).order_by("pk").values_list("kind", "status"))
    assert kinds == [("access", "completed"), ("restrict", "completed"), ("object", "received")]
    for request in DataRequest.objects.filter(user=user):
        assert request.due_at == rights.data_request_due(request.received_at)


def test_J29_officers_are_alerted_once_7_days_before_the_deadline(user, mailoutbox):
    officer = make_officer()
    now = timezone.now()
    soon = rights.data_request_create(
        kind="access", email=user.email, user=user, channel="request_form", received_at=now - timedelta(days=24)
    )
    later = rights.data_request_create(kind="access", email=user.email, user=user, channel="request_form")
    done = rights.data_request_create(
        kind="access", email=user.email, user=user, channel="request_form", received_at=now - timedelta(days=29)
    )
    rights.data_request_decide(data_request=done, status="completed", outcome="Sent.", actor=officer)
    mailoutbox.clear()

    assert rights.data_requests_alert_due(now=now) == 1
    (alert,) = mailoutbox
    assert alert.to == [officer.email] and f"#{soon.pk}" in alert.body and f"#{later.pk}" not in alert.body
    assert rights.data_requests_alert_due(now=now) == 0  # idempotent per request
    # Three weeks on, the other one is due soon and gets its own alert.
    assert rights.data_requests_alert_due(now=now + timedelta(days=24)) == 1


def test_J29_officer_queue_filters_overdue_and_due_this_week(user):
    officer = make_officer()
    now = timezone.now()
    overdue = rights.data_request_create(
        kind="access", email=user.email, user=user, channel="request_form", received_at=now - timedelta(days=31)
    )
    week = rights.data_request_create(
        kind="erase", email=user.email, user=user, channel="request_form", received_at=now - timedelta(days=26)
    )
    fresh = rights.data_request_create(kind="object", email=user.email, user=user, channel="request_form")
    client = Client()
    client.force_login(officer)

    def listed(query: str) -> set[int]:
        response = client.get(f"/admin/privacy/datarequest/{query}")
        assert response.status_code == 200
        return {r.pk for r in response.context["cl"].result_list}

    assert listed("?due=overdue") == {overdue.pk}
    assert listed("?due=week") == {week.pk}
    assert listed("") == {overdue.pk, week.pk, fresh.pk}
    assert b"overdue by" in client.get("/admin/privacy/datarequest/").content


def test_J29_officer_completes_and_refuses_with_outcome_and_each_decision_is_audited(
    user, mailoutbox, django_capture_on_commit_callbacks
):
    officer = make_officer()
    first = rights.data_request_create(kind="rectify", email=user.email, user=user, channel="request_form")
    second = rights.data_request_create(kind="object", email=user.email, user=user, channel="request_form")
    client = Client()
    client.force_login(officer)
    url = "/admin/privacy/datarequest/"

    # The action asks for the outcome first; nothing changes until it is given.
    page = client.post(url, {"action": "mark_refused", "_selected_action": [second.pk]})
    assert page.status_code == 200 and b"Outcome" in page.content
    empty = client.post(url, {"action": "mark_refused", "_selected_action": [second.pk], "apply": "1", "outcome": ""})
    assert empty.status_code == 200
    second.refresh_from_db()
    assert second.status == "received"

    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            url,
            {
                "action": "mark_refused",
                "_selected_action": [second.pk],
                "apply": "1",
                "outcome": "We do not use it so.",
            },
        )
        client.post(
            url,
            {"action": "mark_completed", "_selected_action": [first.pk], "apply": "1", "outcome": "Plan corrected."},
        )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.outcome) == ("completed", "Plan corrected.") and first.completed_at
    assert (second.status, second.outcome) == ("refused", "We do not use it so.") and second.completed_at
    decisions = AuditEvent.objects.filter(action__in=["data_request.completed", "data_request.refused"])
    assert {(e.action, e.target_id, e.actor_id) for e in decisions} == {
        ("data_request.completed", str(first.pk), officer.pk),
        ("data_request.refused", str(second.pk), officer.pk),
    }
    assert {m.to[0] for m in mailoutbox} == {user.email} and any("Plan corrected." in m.body for m in mailoutbox)
    # A decided request is final.
    with pytest.raises(rights.RightsError):
        rights.data_request_decide(data_request=first, status="refused", outcome="Changed my mind", actor=officer)


def test_J29_a_request_received_by_post_is_entered_by_the_officer_with_its_deadline(user):
    officer = make_officer()
    client = Client()
    client.force_login(officer)
    response = client.post(
        "/admin/privacy/datarequest/add/",
        {
            "email": user.email,
            "kind": "access",
            "details": "Letter of 31 January",
            "received_at_0": "2026-01-31",
            "received_at_1": "10:00:00",
        },
    )
    assert response.status_code == 302, response.content
    request = DataRequest.objects.get()
    assert (request.channel, request.user_id, request.due_at) == ("staff", user.pk, at("2026-02-28T10:00"))
    received = AuditEvent.objects.get(action="data_request.received")
    assert received.actor_id == officer.pk and received.actor_role == "privacy_officer"


def test_J29_the_audit_log_and_consent_history_are_read_only_for_the_officer(user):
    officer = make_officer()
    rights.restriction_set(user=user, on=True)
    client = Client()
    client.force_login(officer)
    for path in (
        "core/auditevent",
        *(f"privacy/{m}" for m in ("consentevent", "retentiondecision", "policyversion", "datarequest")),
    ):
        assert client.get(f"/admin/{path}/").status_code == 200, path
    event = AuditEvent.objects.get(action="restriction.set")
    assert client.get(f"/admin/core/auditevent/{event.pk}/change/").status_code == 200
    assert client.post(f"/admin/core/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/core/auditevent/add/").status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


# ------------------------------------------------------------------------------------------------------- J26


def test_J26_erasure_deletes_everything_at_once_and_keeps_only_excepted_records(mailoutbox):
    stock = make_stocked_account()
    user_id, email = stock.user.pk, stock.user.email

    request = rights.erasure_request(user=stock.user, password=PASSWORD, details="Please forget me")

    assert not User.objects.filter(pk=user_id).exists()  # no 90-day wait
    assert content_left(user_id) == {k: 0 for k in content_left(user_id)}
    assert not any(blob_exists(key) for key in stock.blob_keys())
    assert not ConsentEvent.objects.filter(user_id=user_id).exists()
    request.refresh_from_db()
    assert (request.kind, request.status, request.user_id, request.email) == ("erase", "completed", None, email)
    assert "billing records, kept 6 years" in request.outcome and "record of your request" in request.outcome
    assert LedgerEntry.objects.filter(subject_ref=rights.ledger_subject_ref(user_id), user=None).exists()
    actions = list(AuditEvent.objects.filter(subject_user_id=user_id).order_by("pk").values_list("action", flat=True))
    assert actions[-5:] == [
        "data_request.received",
        "account.closed",
        "account.content_deleted",
        "account.purged",
        "data_request.completed",
    ]
    assert mailoutbox[-1].to == [email] and "erased" in mailoutbox[-1].subject
    assert "billing records, kept 6 years" in mailoutbox[-1].body.lower()


def test_J26_erasure_needs_the_password_and_changes_nothing_without_it():
    stock = make_stocked_account()
    with pytest.raises(rights.RightsError) as refused:
        rights.erasure_request(user=stock.user, password="not my password")
    assert "password is not correct" in refused.value.message
    stock.user.refresh_from_db()
    assert stock.user.is_active and stock.user.closed_at is None
    assert Asset.objects.filter(owner=stock.user).count() == len(stock.assets)
    assert not DataRequest.objects.exists()


def test_J26_officer_carries_out_an_erasure_request_from_the_form():
    stock = make_stocked_account()
    officer = make_officer()
    request = rights.data_request_create(
        kind="erase", email=stock.user.email, user=stock.user, channel="request_form", actor_role="requester"
    )
    client = Client()
    client.force_login(officer)
    confirm = client.post(
        "/admin/privacy/datarequest/", {"action": "carry_out_erasure", "_selected_action": [request.pk]}
    )
    assert confirm.status_code == 200 and b"cannot be undone" in confirm.content
    assert User.objects.filter(pk=stock.user.pk).exists()
    client.post(
        "/admin/privacy/datarequest/",
        {"action": "carry_out_erasure", "_selected_action": [request.pk], "apply": "1"},
    )
    assert not User.objects.filter(pk=stock.user.pk).exists()
    request.refresh_from_db()
    assert request.status == "completed"
    closed = AuditEvent.objects.get(action="account.closed", subject_user_id=stock.user.pk)
    assert closed.actor_id == officer.pk and closed.actor_role == "privacy_officer"


# ------------------------------------------------------------------------------------------------------- J27


def test_J27_restricted_account_starts_no_new_job_and_keeps_its_data(user):
    credits_grant_monthly(user=user, period="2026-11")
    job = upload_photo(owner=user, upload=io.BytesIO(jpeg_bytes(320, 240)))
    stored = set(Asset.objects.filter(owner=user).values_list("pk", flat=True))

    request = rights.restriction_set(user=user, on=True)

    assert User.objects.get(pk=user.pk).restricted
    assert (request.kind, request.status) == ("restrict", "completed")
    stale_copy = User.objects.get(pk=user.pk)
    stale_copy.restricted = False  # the check reads the locked row, not the caller's copy
    with pytest.raises(JobRefused) as refused:
        job_create(owner=stale_copy, kind="test.noop")
    assert refused.value.code == "restricted" and refused.value.status == 403
    assert "restrict" in refused.value.message and "kept" in refused.value.message
    with pytest.raises(JobRefused) as refused_upload:
        upload_photo(owner=user, upload=io.BytesIO(jpeg_bytes(320, 240)))
    assert refused_upload.value.code == "restricted"
    assert set(Asset.objects.filter(owner=user).values_list("pk", flat=True)) == stored  # nothing new, nothing lost
    assert Job.objects.filter(owner=user).count() == 1 and Job.objects.filter(pk=job.pk).exists()
    assert AuditEvent.objects.filter(action="restriction.set", subject_user_id=user.pk).exists()

    rights.restriction_set(user=user, on=False)
    assert job_create(owner=user, kind="test.noop").pk
    assert AuditEvent.objects.filter(action="restriction.lifted", subject_user_id=user.pk).exists()


def test_J27_objection_through_the_officer_restricts_the_account(user):
    credits_grant_monthly(user=user, period="2026-11")
    assert job_create(owner=user, kind="test.noop").pk  # it could run before
    officer = make_officer()
    request = rights.data_request_create(kind="object", email=user.email, user=user, channel="request_form")
    client = Client()
    client.force_login(officer)
    client.post("/admin/privacy/datarequest/", {"action": "apply_restriction", "_selected_action": [request.pk]})
    user.refresh_from_db()
    request.refresh_from_db()
    assert user.restricted and request.status == "completed"
    with pytest.raises(JobRefused) as refused:
        job_create(owner=user, kind="test.noop")
    assert refused.value.code == "restricted"


def test_J27_restricting_twice_changes_nothing(user):
    rights.restriction_set(user=user, on=True)
    with pytest.raises(rights.RightsError):
        rights.restriction_set(user=user, on=True)
    assert DataRequest.objects.filter(user=user).count() == 1


# ------------------------------------------------------------------------------------------------------- J25


def test_J25_email_change_needs_reauthentication_and_the_new_address_confirms(logged_in, user, mailoutbox):
    refused = logged_in.post("/account/email/", {"new_email": "right@example.com", "current_password": "guess"})
    assert refused.status_code == 400 and b"current password is not correct" in refused.content
    assert mailoutbox == []
    logged_in.post("/account/email/", {"new_email": "right@example.com", "current_password": PASSWORD})
    user.refresh_from_db()
    assert user.email != "right@example.com"  # not before the new address is proved
    logged_in.get(email_link(mailoutbox[0], "/account/email/confirm/"))
    user.refresh_from_db()
    assert user.email == "right@example.com"


def test_J25_password_change_needs_the_current_password(logged_in, user):
    response = logged_in.post(
        "/account/password/",
        {"old_password": "wrong", "new_password1": "a fresh secret 881", "new_password2": "a fresh secret 881"},
    )
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    logged_in.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": "a fresh secret 881", "new_password2": "a fresh secret 881"},
    )
    user.refresh_from_db()
    assert user.check_password("a fresh secret 881")


def test_J25_other_corrections_go_to_the_officer_as_rectify_requests(
    logged_in, user, mailoutbox, django_capture_on_commit_callbacks
):
    officer = make_officer()
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(
            "/account/data/ask/", {"kind": "rectify", "details": "My plan shows Free, I paid Pro"}
        )
    assert response.status_code == 302
    request = DataRequest.objects.get(user=user)
    assert (request.kind, request.status, request.channel) == ("rectify", "received", "self_service")
    assert request.due_at == rights.data_request_due(request.received_at)
    assert {m.to[0] for m in mailoutbox} == {officer.email, user.email}
    # A rectification without saying what is wrong is refused with a clear message.
    response = logged_in.post("/account/data/ask/", {"kind": "rectify", "details": " "})
    assert response.status_code == 400 and b"what is wrong" in response.content


@pytest.mark.django_db(transaction=True)
def test_E15_simultaneous_code_checks_from_one_network_are_compared_exactly_up_to_the_limit(monkeypatch):
    # The per-network limit is counted in the same step that admits a check, so 60 tries at once get exactly
    # `limit` comparisons and the rest are refused before any code is looked at.
    import contextlib
    import threading
    import types

    from django.db import connections, transaction

    limit, _window = rights.CODE_CHECKS_PER_IP
    tries = limit * 3
    start, outcomes, lock = threading.Barrier(tries), [], threading.Lock()
    # The test database (SQLite in memory) refuses concurrent transactions ("table is locked"), so the code lookup
    # takes turns; the throttle, which comes before it, still sees every try at once.
    database_turn = threading.Lock()

    @contextlib.contextmanager
    def one_at_a_time():
        with database_turn, transaction.atomic():
            yield

    monkeypatch.setattr(rights, "transaction", types.SimpleNamespace(atomic=one_at_a_time))

    def check():
        try:
            start.wait()
            try:
                rights.access_code_check(email="someone@example.com", code="000000", ip="203.0.113.44")
            except rights.RightsThrottled:
                outcome = "throttled"
            except rights.RightsError as refused:
                outcome = refused.code
            with lock:
                outcomes.append(outcome)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=check) for _ in range(tries)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(outcomes) == tries
    assert outcomes.count("wrong_code") == limit
    assert outcomes.count("throttled") == tries - limit
