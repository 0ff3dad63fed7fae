"""Production: an owner's order to the workshop from submission to the photos of the piece, what the workshop may
see and do, and what happens to orders and photos when a version or an account goes (E6, E12, E13)."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from intaglio.assets.models import Asset, AssetKind, RetentionClass
from intaglio.assets.storage import blob_exists
from intaglio.core.models import AuditEvent
from intaglio.engrave.services import artwork_delete
from intaglio.privacy.consent import assets_usable_for, consent_grant, consent_withdraw
from intaglio.privacy.models import ConsentScope
from intaglio.privacy.rights import account_close, account_content_delete, data_export
from intaglio.production import selectors, services
from intaglio.production.models import Capture, Order, OrderState
from intaglio.production.services import ProductionRefused
from tests.factories import make_user
from tests.gallery import finished_version
from tests.production import assigned_order, capture_upload, make_staff, make_worker

pytestmark = pytest.mark.django_db


def logged(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --------------------------------------------------------------------------------------------------- the order


def test_an_order_gets_a_random_number_that_counts_nothing(user):
    orders = [services.order_submit(owner=user, version=finished_version(user)) for _ in range(3)]
    numbers = [order.number for order in orders]
    assert all(re.fullmatch(r"PR-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", n) for n in numbers), numbers
    assert len(set(numbers)) == 3
    assert not any(str(order.pk) in order.number.replace("PR-", "") for order in orders if order.pk > 9)
    assert all(order.state == OrderState.SUBMITTED for order in orders)


def test_only_the_owner_of_a_finished_version_can_send_it(user, other_user):
    version = finished_version(user)
    with pytest.raises(ProductionRefused) as refused:
        services.order_submit(owner=other_user, version=version)
    assert refused.value.status == 404
    version.job = None
    version.save(update_fields=["job"])
    with pytest.raises(ProductionRefused) as refused:
        services.order_submit(owner=user, version=version)
    assert refused.value.code == "not_ready"
    with pytest.raises(ProductionRefused) as refused:
        services.order_submit(owner=user, version=finished_version(user), note="x" * 501)
    assert refused.value.code == "invalid_note"
    assert not Order.objects.exists()


def test_the_send_page_asks_for_a_note_only_and_says_shipping_is_outside(user):
    version = finished_version(user)
    client = logged(user)
    url = reverse("production-send", args=[version.artwork_id, version.number])
    page = client.get(url).content.decode()
    assert "Shipping is arranged outside the platform" in page
    assert not re.search(r'name="(address|street|postcode|zip|phone|name|city)"', page)
    response = client.post(url, {"note": "A slate coaster, 10 cm."})
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("production-order", args=[order.number])
    assert order.note == "A slate coaster, 10 cm." and order.owner == user and order.version == version


def test_the_owner_cancels_before_the_piece_is_photographed_not_after(user):
    worker = make_worker()
    order = assigned_order(user, worker, state="in_production")
    services.order_cancel(order=order, actor=user)
    order.refresh_from_db()
    assert order.state == OrderState.CANCELLED and order.cancel_reason == "owner"
    captured = assigned_order(user, worker, state="captured")
    with pytest.raises(ProductionRefused) as refused:
        services.order_cancel(order=captured, actor=user)
    assert refused.value.code == "wrong_state"
    with pytest.raises(ProductionRefused):
        services.order_cancel(order=captured, actor=make_user())


# ------------------------------------------------------------------------------------------------ the workshop


def test_the_workshop_sees_only_orders_assigned_to_it(user, other_user):
    worker, colleague = make_worker(), make_worker()
    mine = assigned_order(user, worker)
    theirs = assigned_order(other_user, colleague)
    unassigned = services.order_submit(owner=user, version=finished_version(user))
    assert list(selectors.workshop_queue(worker=worker)) == [mine]
    assert selectors.workshop_order_get(worker=worker, number=theirs.number) is None
    assert selectors.workshop_order_get(worker=worker, number=unassigned.number) is None
    assert logged(worker).get(reverse("workshop-order", args=[theirs.number])).status_code == 404
    # The role is asked at each request: someone who left the workshop sees nothing, even of their orders.
    worker.groups.clear()
    assert list(selectors.workshop_queue(worker=worker)) == []
    assert logged(worker).get(reverse("workshop-order", args=[mine.number])).status_code == 404


def test_assigning_needs_a_workshop_member(user):
    order = services.order_submit(owner=user, version=finished_version(user))
    with pytest.raises(ProductionRefused):
        services.order_assign(order=order, worker=make_staff(), actor=make_staff())
    services.order_assign(order=order, worker=make_worker(), actor=make_staff())
    assert AuditEvent.objects.filter(action="production.assigned", target_id=order.number).exists()


def test_the_workshop_never_sees_the_customers_identity():
    customer = make_user(email="alice.example@example.com")
    worker = make_worker()
    version = finished_version(customer, title="Alice Example's dog")
    order = services.order_submit(owner=customer, version=version, note="")
    services.order_assign(order=order, worker=worker, actor=make_staff())
    client = logged(worker)
    pages = [
        client.get(reverse("workshop-queue")).content.decode(),
        client.get(reverse("workshop-order", args=[order.number])).content.decode(),
    ]
    for page in pages:
        assert order.number in page
        for secret in ("alice.example", "Alice", "Example", f"/{customer.pk}/", f"user {customer.pk}"):
            assert secret not in page, secret
    download = client.get(reverse("workshop-file", args=[order.number, "png"]))
    assert download.status_code == 200
    assert download["Content-Disposition"] == f'attachment; filename="{order.number.lower()}-png.png"'


def test_each_workshop_download_is_audited_with_who_which_file_and_why(user):
    worker = make_worker()
    order = assigned_order(user, worker)
    png = order.version.job.outputs.get(role="png")
    response = logged(worker).get(reverse("workshop-file", args=[order.number, "png"]))
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"\x89PNG")
    event = AuditEvent.objects.get(action="production.file_downloaded")
    assert (event.actor_id, event.actor_role, event.subject_user_id) == (worker.pk, "factory", user.pk)
    assert (event.target_type, event.target_id) == ("asset", str(png.pk))
    assert event.detail == {"order": order.number, "role": "png", "why": "engrave the order"}
    # A role that is not one of the order's files, or an order no longer open, gives nothing and audits nothing.
    assert logged(worker).get(reverse("workshop-file", args=[order.number, "source"])).status_code == 404
    services.order_cancel(order=order, actor=user)
    assert logged(worker).get(reverse("workshop-file", args=[order.number, "png"])).status_code == 404
    assert AuditEvent.objects.filter(action="production.file_downloaded").count() == 1


def test_from_submission_to_done_the_owner_sees_the_workshops_photos(user):
    worker = make_worker()
    order = assigned_order(user, worker)
    workshop = logged(worker)
    with pytest.raises(ProductionRefused):  # photos only once started
        services.capture_store(order=order, worker=worker, upload=capture_upload())
    workshop.post(reverse("workshop-order", args=[order.number]), {"action": "start"})
    order.refresh_from_db()
    assert order.state == OrderState.IN_PRODUCTION
    response = workshop.post(reverse("workshop-capture", args=[order.number]), {"photo": capture_upload()})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == OrderState.CAPTURED
    (capture,) = order.captures.all()
    photo = capture.asset
    # The customer's file, stored through the one ingest: re-encoded, no file name of the workshop's kept.
    assert photo.owner == user and photo.kind == AssetKind.FACTORY_CAPTURE
    assert photo.title == f"Workshop photo 1 of {order.number}" and "piece" not in photo.download_name
    owner = logged(user)
    page = owner.get(reverse("production-order", args=[order.number])).content.decode()
    assert reverse("asset-download", args=[photo.pk]) in page
    studio = owner.get(reverse("artwork-versions", args=[order.version.artwork_id])).content.decode()
    assert reverse("asset-download", args=[photo.pk]) in studio and order.number in studio
    assert owner.get(reverse("asset-download", args=[photo.pk])).status_code == 200
    workshop.post(reverse("workshop-order", args=[order.number]), {"action": "done"})
    order.refresh_from_db()
    assert order.state == OrderState.DONE
    actions = list(AuditEvent.objects.filter(target_id=order.number).values_list("action", "actor_role"))
    assert ("production.started", "factory") in actions and ("production.captured", "factory") in actions
    assert ("production.done", "factory") in actions and ("production.submitted", "customer") in actions


def test_a_photo_the_ingest_refuses_is_not_stored(user):
    worker = make_worker()
    order = assigned_order(user, worker, state="in_production")
    bad = SimpleUploadedFile("piece.jpg", b"not an image at all", "image/jpeg")
    response = logged(worker).post(reverse("workshop-capture", args=[order.number]), {"photo": bad}, follow=True)
    assert response.status_code == 200 and "not" in response.content.decode().lower()
    assert not Asset.objects.filter(kind=AssetKind.FACTORY_CAPTURE).exists()
    order.refresh_from_db()
    assert order.state == OrderState.IN_PRODUCTION


# ----------------------------------------------------------------------------------------------------- privacy


def test_E12_a_capture_without_learning_consent_is_private_feedback_for_14_days(user, settings):
    before = timezone.now()
    order = assigned_order(user, make_worker(), state="captured")
    photo = order.captures.get().asset
    assert photo.retention_class == RetentionClass.PRIVATE_FEEDBACK
    days = settings.RETENTION_PRIVATE_FEEDBACK_DAYS
    assert days == 14
    assert before + timedelta(days=days) <= photo.expires_at <= timezone.now() + timedelta(days=days)


def test_E12_engraved_learning_keeps_captures_and_its_withdrawal_restarts_the_clock(user):
    consent_grant(user=user, scope=ConsentScope.ENGRAVED_LEARNING, source="test")
    order = assigned_order(user, make_worker(), state="captured")
    photo = order.captures.get().asset
    assert photo.expires_at is None
    consent_withdraw(user=user, scope=ConsentScope.ENGRAVED_LEARNING, source="test")
    photo.refresh_from_db()
    assert photo.expires_at is not None and photo.expires_at <= timezone.now() + timedelta(days=14)


def test_E13_captures_are_reviewable_only_while_the_customer_allows_internal_review(user, other_user):
    mine = assigned_order(user, make_worker(), state="captured").captures.get().asset
    theirs = assigned_order(other_user, make_worker(), state="captured").captures.get().asset
    assert mine.pk not in set(assets_usable_for(ConsentScope.INTERNAL_REVIEW).values_list("pk", flat=True))
    consent_grant(user=user, scope=ConsentScope.INTERNAL_REVIEW, source="test")
    usable = set(assets_usable_for(ConsentScope.INTERNAL_REVIEW).values_list("pk", flat=True))
    assert mine.pk in usable and theirs.pk not in usable
    consent_withdraw(user=user, scope=ConsentScope.INTERNAL_REVIEW, source="test")
    assert mine.pk not in set(assets_usable_for(ConsentScope.INTERNAL_REVIEW).values_list("pk", flat=True))
    # Learning consent alone does not make a workshop photo reviewable; like the owner's own photos of a piece, it
    # is learnable under broad learning.
    consent_grant(user=user, scope=ConsentScope.BROAD_LEARNING, source="test")
    assert mine.pk not in set(assets_usable_for(ConsentScope.INTERNAL_REVIEW).values_list("pk", flat=True))
    assert mine.pk in set(assets_usable_for(ConsentScope.BROAD_LEARNING).values_list("pk", flat=True))


def test_E6_deleting_the_version_cancels_open_orders_and_removes_the_captures(user, django_capture_on_commit_callbacks):
    worker = make_worker()
    captured = assigned_order(user, worker, state="captured")
    waiting = services.order_submit(owner=user, version=captured.version)
    keys = [c.asset.storage_key for c in captured.captures.all()]
    assert keys and all(blob_exists(key) for key in keys)
    with django_capture_on_commit_callbacks(execute=True):
        artwork_delete(artwork=captured.version.artwork, actor=user)
    for order in (captured, waiting):
        order.refresh_from_db()
        assert (order.state, order.cancel_reason, order.version) == (OrderState.CANCELLED, "version_deleted", None)
    assert not Capture.objects.exists() and not Asset.objects.filter(kind=AssetKind.FACTORY_CAPTURE).exists()
    assert not any(blob_exists(key) for key in keys)
    assert list(selectors.workshop_queue(worker=worker)) == []


def test_E6_closing_the_account_cancels_open_orders_and_removes_the_captures_at_once(
    user, django_capture_on_commit_callbacks
):
    worker = make_worker()
    captured = assigned_order(user, worker, state="captured")
    done = assigned_order(user, worker, state="done")
    keys = [c.asset.storage_key for o in (captured, done) for c in o.captures.all()]
    with django_capture_on_commit_callbacks(execute=True):
        account_close(user=user)
    captured.refresh_from_db()
    done.refresh_from_db()
    assert (captured.state, captured.cancel_reason) == (OrderState.CANCELLED, "account_closed")
    assert done.state == OrderState.DONE  # a finished order stays finished; its photos go all the same
    assert not Capture.objects.exists() and not any(blob_exists(key) for key in keys)
    assert list(selectors.workshop_queue(worker=worker)) == []


def test_the_export_lists_orders_and_captures_and_erasure_removes_them(
    user, other_user, django_capture_on_commit_callbacks
):
    worker = make_worker()
    order = assigned_order(user, worker, state="captured", note="Centre it.")
    kept = assigned_order(other_user, worker, state="captured")
    photo = order.captures.get().asset
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(data_export(user=user))).read("manifest.json"))
    (row,) = manifest["sections"]["production_orders"]["records"]
    assert (row["number"], row["state"], row["note"]) == (order.number, "captured", "Centre it.")
    assert [c["file_id"] for c in row["captures"]] == [photo.pk]
    assert photo.pk in {entry["id"] for entry in manifest["sections"]["files"]["records"]}
    from tests.privacy.test_export import schema_errors

    assert schema_errors(manifest) == []
    User = type(user)
    User.objects.filter(pk=user.pk).update(closed_at=timezone.now(), is_active=False)  # closed without the signal
    user.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        counts = account_content_delete(user=user)
    assert counts["production_orders"] == 1 and counts["production_captures"] == 1
    assert not Order.objects.filter(owner=user).exists() and not Asset.objects.filter(pk=photo.pk).exists()
    assert not blob_exists(photo.storage_key)
    assert Order.objects.filter(pk=kept.pk).exists() and kept.captures.exists()


def test_the_operator_assigns_an_order_in_the_admin_and_the_assignment_is_audited(user):
    operator = make_user(is_staff=True, is_superuser=True)
    worker = make_worker()
    order = services.order_submit(owner=user, version=finished_version(user))
    admin = logged(operator)
    url = reverse("admin:production_order_change", args=[order.pk])
    page = admin.get(url).content.decode()
    assert order.number in page
    response = admin.post(url, {"assigned_to": worker.pk})
    assert response.status_code == 302, response.content[:500]
    order.refresh_from_db()
    assert order.assigned_to == worker
    event = AuditEvent.objects.get(action="production.assigned")
    assert (event.actor_id, event.subject_user_id, event.detail) == (operator.pk, user.pk, {"assigned_to": worker.pk})
    assert order in selectors.workshop_queue(worker=worker)
    # Someone outside the workshop cannot be chosen.
    admin.post(url, {"assigned_to": make_staff().pk})
    order.refresh_from_db()
    assert order.assigned_to == worker


def test_E12_the_sweeper_deletes_an_expired_capture_and_the_order_keeps_its_state(
    user, django_capture_on_commit_callbacks
):
    from intaglio.privacy.retention import retention_sweep

    order = assigned_order(user, make_worker(), state="done")
    photo = order.captures.get().asset
    with django_capture_on_commit_callbacks(execute=True):
        retention_sweep(now=photo.expires_at - timedelta(seconds=1))
    assert Asset.objects.filter(pk=photo.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        retention_sweep(now=photo.expires_at + timedelta(seconds=1))
    assert not Asset.objects.filter(pk=photo.pk).exists() and not blob_exists(photo.storage_key)
    order.refresh_from_db()
    assert order.state == OrderState.DONE and not order.captures.exists()
    assert logged(user).get(reverse("production-order", args=[order.number])).status_code == 200


def test_a_full_customer_storage_tells_the_workshop_nothing_of_the_customers_usage(user, settings):
    worker = make_worker()
    order = assigned_order(user, worker, state="in_production")
    settings.PLANS = {name: {**plan, "storage_mb": 0} for name, plan in settings.PLANS.items()}
    with pytest.raises(ProductionRefused) as refused:
        services.capture_store(order=order, worker=worker, upload=capture_upload())
    assert refused.value.code == "customer_storage_full" and "MB" not in refused.value.message
    assert not Asset.objects.filter(kind=AssetKind.FACTORY_CAPTURE).exists()
