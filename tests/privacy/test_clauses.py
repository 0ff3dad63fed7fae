"""Named proofs for the PRIVACY-SPEC clauses that had no test of their own; docs/privacy-clauses.md lists every
clause with its mechanism and the tests that prove it.

E1 (uploads read only through their job), E13 (the review filter), J1 (minimal account), J2 (upload allow-list),
J3 (outputs kept with the params that made them), J4 (ledger), J10/J11 (blobs in storage under random keys), J13
(cross-account matrix over every owner-scoped URL), J17 (delete a job and its images), J30 (TLS), J31 (no card data).
"""

from __future__ import annotations

import ast
import base64
import hashlib
import importlib
import inspect
import io
import json
import os
import pkgutil
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pydantic
import pytest
from django import forms
from django.apps import apps
from django.contrib.admin.sites import site as admin_site
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, models, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

import intaglio
from intaglio.accounts.models import ApiToken, User
from intaglio.accounts.services import api_token_create
from intaglio.api.api import api
from intaglio.assets.models import Asset, AssetKind, RetentionClass, new_storage_key
from intaglio.assets.scan import storage_scan
from intaglio.assets.services import asset_ingest_upload
from intaglio.assets.storage import blob_exists, blob_open, blob_write
from intaglio.credits.models import EntryKind, LedgerEntry
from intaglio.credits.selectors import credit_balance
from intaglio.credits.services import (
    InsufficientCredits,
    credits_capture,
    credits_grant_monthly,
    credits_release,
    credits_reserve,
)
from intaglio.engrave import services as engrave
from intaglio.engrave.models import Artwork, ArtworkVersion, CalibrationProfile, MachineProfile, MaterialPreset
from intaglio.engrave.params import STYLES
from intaglio.feedback.models import BurnReport
from intaglio.gallery.models import GalleryItem
from intaglio.jewellery import services as jewellery
from intaglio.jewellery.models import Batch, DesignCheck, Generation, Piece, StyleKit
from intaglio.jobs import kinds
from intaglio.jobs.kinds import JobKind, registered_kinds
from intaglio.jobs.models import Job, JobState
from intaglio.jobs.runner import JobContext, LeaseKeeper, LeaseLost, _claim
from intaglio.jobs.services import JobRefused, job_create, upload_photo
from intaglio.privacy.consent import assets_usable_for, consent_grant, consent_withdraw
from intaglio.privacy.models import ConsentEvent
from intaglio.production.models import Order
from tests.engrave import MACHINE
from tests.factories import PASSWORD, jpeg_bytes, make_token, make_user, run_queued_jobs
from tests.jewellery import ATTRIBUTES as RING_ATTRIBUTES
from tests.privacy import make_asset

pytestmark = pytest.mark.django_db

SRC = Path(intaglio.__file__).resolve().parent
SLATE = {"material": "slate", "machine": "diode-10w", "width_mm": 60}
JSON = {"HTTP_ACCEPT": "application/json"}


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def photo_upload(name: str = "holiday.jpg", data: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, jpeg_bytes(480, 360) if data is None else data, content_type="image/jpeg")


def uploaded_photo(owner) -> tuple[Job, Asset]:
    """A photo uploaded the way every upload is, with its preview job run."""
    job = upload_photo(owner=owner, upload=io.BytesIO(jpeg_bytes(480, 360)))
    run_queued_jobs()
    job.refresh_from_db()
    return job, job.inputs.get()


def stored(data: bytes, *, owner, kind: str = AssetKind.ARTWORK, name: str = "made.png") -> Asset:
    """A finished-work asset with its blob (a publishable item for the gallery routes)."""
    asset = Asset(
        owner=owner,
        kind=kind,
        mime="image/png",
        sha256=hashlib.sha256(data).hexdigest(),
        bytes=len(data),
        download_name=name,
        retention_class=RetentionClass.ACCOUNT_CONTENT,
    )
    blob_write(asset.storage_key, data)
    asset.save()
    return asset


def all_blob_keys() -> set[str]:
    return set(Asset.objects.values_list("storage_key", flat=True))


# ============================================================================================================ E1
# A source photo is used only for the job the user asked for: workers read an upload through its job.

READS: dict[str, str] = {}


class ProbeParams(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    target: int


def read_probe(ctx) -> None:
    """A job kind that reads its own input, then tries to read a file that is not one of its inputs."""
    (own,) = ctx.inputs
    READS["own"] = "read" if ctx.read_input(own) else "empty"
    try:
        ctx.read_input(Asset.objects.get(pk=ctx.params["target"]))
    except LeaseLost:
        raise
    except Exception:
        READS["target"] = "refused"
        raise
    READS["target"] = "read"


@pytest.fixture
def probe_kind(monkeypatch, settings):
    """Registers the probe for this test only (the registry is left as it was afterwards)."""
    READS.clear()
    monkeypatch.setitem(
        kinds._kinds,
        "test.read_probe",
        JobKind(
            name="test.read_probe", label="Read probe", run=read_probe, params=ProbeParams, inputs_min=1, inputs_max=1
        ),
    )
    settings.JOB_COSTS = {**settings.JOB_COSTS, "test.read_probe": 0}


@pytest.mark.parametrize("whose", ["another account's photo", "the owner's photo that no job uses"])
def test_E1_a_worker_cannot_read_an_upload_that_is_not_an_input_of_its_job(probe_kind, user, other_user, whose):
    _, own = uploaded_photo(user)
    if whose == "another account's photo":
        _, target = uploaded_photo(other_user)
    else:
        target = asset_ingest_upload(owner=user, upload=io.BytesIO(jpeg_bytes(300, 200)))
    job = job_create(owner=user, kind="test.read_probe", params={"target": target.pk}, inputs=[own])
    run_queued_jobs()
    job.refresh_from_db()
    assert READS["own"] == "read"  # a job reads its own input as always
    assert READS["target"] == "refused"
    assert job.state == JobState.FAILED and not Asset.objects.filter(produced_by=job).exists()


def test_E1_a_job_is_given_only_its_owners_uploads(user, other_user, client):
    _, theirs = uploaded_photo(other_user)
    with pytest.raises(JobRefused) as refused:
        job_create(owner=user, kind="preview", inputs=[theirs])
    assert refused.value.code == "invalid_inputs"
    # Through the API too, answered exactly as for a file that does not exist.
    response = client.post(
        "/api/v1/jobs",
        {"kind": "preview", "inputs": [theirs.pk]},
        content_type="application/json",
        **bearer(make_token(user)),
    )
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_inputs"
    assert not Job.objects.filter(owner=user).exists()
    assert list(theirs.input_of.values_list("owner_id", flat=True)) == [other_user.pk]


BLOB_ACCESS = ("intaglio.assets.storage", "django.core.files.storage", "storages", "boto3", "botocore")


def test_E1_job_kinds_read_uploads_only_through_their_job_context():
    """The product's job kinds get their files from JobContext (inputs, read_input), never from storage directly."""
    modules = {inspect.getmodule(kind.run) for kind in registered_kinds()}
    # A kind that takes no files (such as engrave.card, which draws a test card) has no uploads to read.
    reading = {inspect.getmodule(kind.run) for kind in registered_kinds() if kind.inputs_max > 0}
    product = sorted((m for m in modules if m.__name__.startswith("intaglio.")), key=lambda m: m.__name__)
    assert {m.__name__ for m in product} >= {"intaglio.jobs.renditions", "intaglio.engrave.jobs"}
    for module in product:
        source = Path(module.__file__).read_text(encoding="utf-8")
        tree = ast.parse(source)
        imported = {
            name
            for node in ast.walk(tree)
            for name in (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
        }
        direct = sorted(n for n in imported if any(n == root or n.startswith(root + ".") for root in BLOB_ACCESS))
        assert direct == [], f"{module.__name__} reaches storage directly: {direct}"
        if module in reading:
            assert "ctx.read_input(" in source, f"{module.__name__} should read its inputs through ctx.read_input"


# ============================================================================================================ E13
# With internal_review consent only, engraved-result photos may be reviewed (the reviewer role is not built yet).


def test_E13_review_input_is_only_engraved_results_of_accounts_that_allow_review(user, other_user):
    mine = make_asset(user, AssetKind.ENGRAVED_RESULT)
    make_asset(other_user, AssetKind.ENGRAVED_RESULT)  # never consented
    make_asset(user, AssetKind.SOURCE_PHOTO)  # a source photo is never review input
    make_asset(user, AssetKind.REFERENCE_IMAGE)  # nor jewellery content
    assert not assets_usable_for("internal_review").exists()  # off by default
    consent_grant(user=user, scope="internal_review", source="privacy_page")
    assert list(assets_usable_for("internal_review")) == [mine]
    consent_withdraw(user=user, scope="internal_review", source="privacy_page")
    assert not assets_usable_for("internal_review").exists()


# ============================================================================================================ J1
# Account data is an e-mail address and authentication identifiers.

# Every field of the user model, and why it is there. A new personal field (name, phone, address, birthday…) fails.
USER_FIELDS = {
    "id": "internal key",
    "email": "the one personal datum: login and service messages",
    "password": "authentication (Argon2 hash)",
    "last_login": "authentication",
    "email_verified_at": "authentication: the address was confirmed",
    "is_active": "authentication: closed accounts cannot log in",
    "is_staff": "authorisation",
    "is_superuser": "authorisation",
    "groups": "authorisation (privacy officer role)",
    "user_permissions": "authorisation",
    "date_joined": "account lifetime (J20)",
    "closed_at": "account lifetime (J20)",
    "content_deleted_at": "closure bookkeeping (J21)",
    "restricted": "right to restrict (J27)",
    "plan": "plan limits and credits (J4)",
}
API_TOKEN_FIELDS = {"id", "user", "name", "prefix", "digest", "created_at", "last_used_at", "revoked_at"}
# Words that name personal details the product never collects; checked against every field of every model.
PERSONAL_WORDS = {
    "phone", "mobile", "telephone", "address", "street", "city", "postcode", "zipcode", "zip", "country",
    "birth", "birthday", "birthdate", "dob", "gender", "sex", "firstname", "lastname", "surname", "fullname",
    "ip", "useragent", "device", "location", "latitude", "longitude", "avatar", "nationality",
}  # fmt: skip


def _words(field_name: str) -> set[str]:
    parts = field_name.lower().split("_")
    return set(parts) | {"".join(parts[i : i + 2]) for i in range(len(parts) - 1)}


def test_J1_the_account_holds_an_email_address_and_authentication_data_only():
    fields = {f.name for f in User._meta.get_fields() if f.concrete or f.many_to_many}
    assert fields == set(USER_FIELDS), f"new or removed User fields: {fields ^ set(USER_FIELDS)}"
    assert {f.name for f in ApiToken._meta.get_fields() if f.concrete} == API_TOKEN_FIELDS
    from intaglio.accounts.forms import SignUpForm

    assert set(SignUpForm.base_fields) == {"email", "password"}
    schema = api.get_openapi_schema()["components"]["schemas"]
    assert set(schema["AccountOut"]["properties"]) == {"id", "email", "email_verified", "date_joined"}


def test_J1_no_model_collects_other_personal_details():
    found = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if (field.concrete or field.many_to_many) and _words(field.name) & PERSONAL_WORDS
    ]
    assert found == []


# ============================================================================================================ J2
# Reference images and photos are uploaded through an allow-list: anything that is not a real image is refused.


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("document.jpg", b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"),
        ("page.jpg", b"<!DOCTYPE html>\n<html><body><script>alert(1)</script></body></html>"),
        ("drawing.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="9"/></svg>'),
        ("letter.jpg", b"Dear shop,\nplease engrave my dog.\n"),
        ("archive.jpg", b"PK\x03\x04" + b"\x00" * 60),
    ],
)
def test_J2_only_images_pass_the_upload_path(logged_in, user, name, data):
    web = logged_in.post(reverse("upload"), {"file": [photo_upload(name, data)]}, **JSON)
    assert web.status_code == 415 and web.json()["error"]["code"] == "unsupported_type"
    via_api = Client().post("/api/v1/uploads", {"files": [photo_upload(name, data)]}, **bearer(make_token(user)))
    assert via_api.status_code == 415 and via_api.json()["error"]["code"] == "unsupported_type"
    assert not Asset.objects.exists() and not Job.objects.exists()
    assert storage_scan().blobs == 0
    # The same path takes a real photo.
    assert logged_in.post(reverse("upload"), {"file": [photo_upload()]}, **JSON).status_code == 201


# ============================================================================================================ J3
# Generated images are stored with the parameters that made them: outputs are assets of their job.


def test_J3_outputs_are_assets_of_the_job_that_keeps_the_params_that_made_them(user, client):
    credits_grant_monthly(user=user, period="2026-11")
    _, photo = uploaded_photo(user)
    artwork = engrave.artwork_create(owner=user, source=photo)
    version = engrave.artwork_prepare(artwork=artwork, settings={**SLATE, "mode": "atkinson"})
    run_queued_jobs()
    job = Job.objects.get(pk=version.job_id)
    assert job.state == JobState.SUCCEEDED
    assert (job.params["material"], job.params["machine"], job.params["width_mm"], job.params["mode"]) == (
        "slate",
        "diode-10w",
        60,
        "atkinson",
    )
    outputs = list(Asset.objects.filter(owner=user, kind=AssetKind.ARTWORK))
    assert outputs and all(asset.produced_by_id == job.pk for asset in outputs)
    assert version.settings == job.params
    shown = client.get(f"/api/v1/jobs/{job.pk}", **bearer(make_token(user))).json()
    assert shown["params"] == job.params
    assert {o["id"] for o in shown["outputs"]} == set(job.outputs.values_list("pk", flat=True))


# ============================================================================================================ J4
# Credits: an append-only ledger, idempotent per (job, kind), whose balance never goes negative.


@pytest.fixture
def funded(user, settings):
    settings.JOB_COSTS = {**settings.JOB_COSTS, "test.steps": 15}
    credits_grant_monthly(user=user, period="2026-11")  # 20 on the free plan
    return user


def test_J4_a_reservation_beyond_the_balance_is_refused_and_the_balance_never_goes_negative(funded):
    first = job_create(owner=funded, kind="test.steps")
    assert credit_balance(user=funded) == 5
    with pytest.raises(JobRefused) as refused:
        job_create(owner=funded, kind="test.steps")
    assert refused.value.code == "insufficient_credits"
    assert "needs 15 credits and you have 5" in refused.value.message
    with pytest.raises(InsufficientCredits):
        credits_reserve(job=first, credits=6)
    assert credit_balance(user=funded) == 5
    assert sorted(LedgerEntry.objects.filter(user=funded).values_list("kind", "delta")) == [
        (EntryKind.GRANT, 20),
        (EntryKind.RESERVE, -15),
    ]
    assert Job.objects.filter(owner=funded).count() == 1


def test_J4_each_entry_is_written_once_per_job_and_kind(funded, settings):
    settings.JOB_COSTS = {**settings.JOB_COSTS, "test.steps": 5}
    job = job_create(owner=funded, kind="test.steps")
    credits_reserve(job=job, credits=5)  # a retried reservation writes nothing new
    credits_capture(job=job)
    credits_capture(job=job)
    credits_release(job=job)  # a reservation ends once: captured, so never released as well
    assert credits_grant_monthly(user=funded, period="2026-11") is None
    kinds_written = sorted(LedgerEntry.objects.filter(job=job).values_list("kind", flat=True))
    assert kinds_written == [EntryKind.CAPTURE, EntryKind.RESERVE]
    assert credit_balance(user=funded) == 15
    # The database itself refuses a second row under the same key.
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            user=funded, job=job, kind=EntryKind.RELEASE, credits=5, delta=5, idempotency_key=f"job:{job.pk}:reserve"
        )


def test_J4_the_admin_shows_the_ledger_but_cannot_change_or_delete_it(funded, client):
    entry = LedgerEntry.objects.get(user=funded, kind=EntryKind.GRANT)
    admin = make_user(is_staff=True, is_superuser=True)
    client.force_login(admin)
    change = reverse("admin:credits_ledgerentry_change", args=[entry.pk])
    assert client.get(change).status_code == 200  # visible, read-only
    assert client.post(change, {"delta": 9999, "credits": 9999, "kind": "grant"}).status_code == 403
    delete = reverse("admin:credits_ledgerentry_delete", args=[entry.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert (entry.delta, entry.credits) == (20, 20)
    assert credit_balance(user=funded) == 20


def test_J4_the_admin_cannot_write_ledger_rows_by_hand(funded):
    admin = make_user(is_staff=True, is_superuser=True)
    request = type("Request", (), {"user": admin})()
    assert admin_site._registry[LedgerEntry].has_add_permission(request) is False


def test_J4_a_written_ledger_row_cannot_be_rewritten(funded):
    entry = LedgerEntry.objects.get(user=funded, kind=EntryKind.GRANT)
    entry.delta = 9999
    with pytest.raises(Exception):  # noqa: B017, PT011 - any refusal will do; the type is the implementer's choice
        entry.save()
    entry.refresh_from_db()
    assert entry.delta == 20


# ============================================================================================================ J10
# The database holds accounts, jobs and image metadata; the bytes of files never.

BLOB_FIELDS = (models.BinaryField, models.FileField)  # ImageField is a FileField


def test_J10_no_model_has_a_field_that_stores_file_content():
    found = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, BLOB_FIELDS)
    ]
    assert found == []
    assert {"storage_key", "sha256", "bytes", "mime", "width", "height"} <= {
        f.name for f in Asset._meta.concrete_fields
    }


def test_J10_after_an_upload_no_row_in_any_table_holds_the_files_bytes(user):
    uploaded_photo(user)
    samples = []
    for asset in Asset.objects.all():
        with blob_open(asset.storage_key) as handle:
            data = handle.read()
        chunk = data[200:248]  # past the format header, which any JPEG shares
        samples += [base64.b64encode(chunk).decode(), chunk.hex()]
    assert len(samples) == 6  # the photo, its web preview and its thumbnail
    for model in apps.get_models():
        for row in model.objects.all():
            for field in model._meta.concrete_fields:
                value = field.value_from_object(row)
                assert not isinstance(value, bytes | bytearray | memoryview), f"{model._meta.label}.{field.name}"
                text = value if isinstance(value, str) else json.dumps(value, default=str)
                assert not any(s in text for s in samples), f"file content in {model._meta.label}.{field.name}"


# ============================================================================================================ J11
# Object storage holds the binary content; the database keeps random keys only.


def test_J11_files_live_in_storage_under_random_160_bit_keys_never_the_upload_name(logged_in, user):
    name = "Rex-at-Brighton-beach-2024.jpg"
    assert logged_in.post(reverse("upload"), {"file": [photo_upload(name)]}, **JSON).status_code == 201
    run_queued_jobs()
    assets = list(Asset.objects.filter(owner=user))
    assert len(assets) == 3
    for asset in assets:
        assert re.fullmatch(r"blobs/[0-9a-f]{40}", asset.storage_key), asset.storage_key  # 160 random bits
        for fragment in ("rex", "brighton", "beach", "2024"):
            assert fragment not in asset.storage_key.lower()
        with blob_open(asset.storage_key) as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == asset.sha256
    # The name is the owner's own title for the photo and names their downloads; storage never sees it.
    (photo,) = [asset for asset in assets if asset.produced_by_id is None]
    assert photo.title == "Rex-at-Brighton-beach-2024" and photo.download_name == "rex-at-brighton-beach-2024.jpg"
    keys = {new_storage_key() for _ in range(500)}
    assert len(keys) == 500


# ============================================================================================================ J13
# Reference images serve only their owner: every owner-scoped URL answers 404 to another account.

PRESET = {"name": "Slate portraits", "material": "slate", "mode": "atkinson", "line_interval_mm": "0.12"}
STUDIO_FORM = {"material": "slate", "machine": "diode-10w", "width_mm": "60", "fit": "crop", "mode": "atkinson"}
A_STYLE = next(iter(STYLES))
# The world's piece has one reference, so one shot type.
ATTRIBUTES = {**RING_ATTRIBUTES, "shots": RING_ATTRIBUTES["shots"][:1]}
BRIEF = {"preset": "white_packshot", "aspect_ratio": "1:1", "variants": 1, "metals": []}


@dataclass(frozen=True)
class Case:
    surface: str  # "web" (session) or "api" (Bearer token)
    method: str
    route: str  # web: URL name; api: the OpenAPI path
    target: str  # which of the owner's objects the id (or body reference) names
    body: dict | None = None
    status: int = 404
    code: str = "not_found"  # api error code
    tail: tuple = ()  # web: path arguments after the ids that name no object (e.g. a picture's size)

    @property
    def id(self) -> str:
        return f"{self.surface} {self.method} {self.route}"


WEB_CASES = [
    Case("web", "GET", "job-detail", "job"),
    Case("web", "GET", "job-panel", "job"),
    Case("web", "POST", "job-cancel", "job"),
    Case("web", "GET", "job-delete", "job"),
    Case("web", "POST", "job-delete", "job"),
    Case("web", "GET", "asset-download", "photo"),
    Case("web", "GET", "artwork-studio", "artwork"),
    Case("web", "GET", "artwork-photo", "artwork+photo", tail=(60, 40, "crop")),
    Case("web", "POST", "artwork-preview", "artwork", STUDIO_FORM),
    Case("web", "POST", "artwork-prepare", "artwork", STUDIO_FORM),
    Case("web", "GET", "artwork-versions", "artwork"),
    Case("web", "GET", "artwork-styles", "artwork"),
    Case("web", "POST", "artwork-styles", "artwork"),
    Case("web", "GET", "artwork-styles-panel", "artwork"),
    Case("web", "POST", "artwork-use-style", "artwork", {"style": A_STYLE}),
    Case("web", "GET", "artwork-delete", "artwork"),
    Case("web", "POST", "artwork-delete", "artwork"),
    Case("web", "GET", "library-machine-edit", "machine"),
    Case("web", "POST", "library-machine-edit", "machine", MACHINE),
    Case("web", "GET", "library-machine-delete", "machine"),
    Case("web", "POST", "library-machine-delete", "machine"),
    Case("web", "GET", "library-preset-edit", "preset"),
    Case("web", "POST", "library-preset-edit", "preset", PRESET),
    Case("web", "GET", "library-preset-delete", "preset"),
    Case("web", "POST", "library-preset-delete", "preset"),
    Case("web", "GET", "calibrate-card", "card"),
    Case("web", "GET", "calibrate-card-panel", "card"),
    Case("web", "POST", "calibrate-card-photo", "card"),
    Case("web", "GET", "calibrate-reading", "reading"),
    Case("web", "GET", "calibrate-reading-panel", "reading"),
    Case("web", "POST", "calibrate-reading-save", "reading"),
    Case("web", "POST", "calibrate-reading-verify", "reading"),
    Case("web", "POST", "calibrate-verify-card", "calibration"),
    Case("web", "GET", "calibrate-delete", "calibration"),
    Case("web", "POST", "calibrate-delete", "calibration"),
    Case("web", "POST", "artwork-rename", "artwork", {"title": "Mine now"}),
    Case("web", "POST", "artwork-save-preset", "artwork", {"preset_name": "Mine now"}),
    Case("web", "POST", "photo-rename", "photo", {"title": "Mine now"}),
    Case("web", "POST", "artwork-burn-photo", "artwork+version"),
    Case("web", "GET", "artwork-burn-report", "artwork+burn"),
    Case("web", "GET", "artwork-burn-panel", "artwork+burn"),
    Case("web", "GET", "artwork-burn-delete", "artwork+burn"),
    Case("web", "POST", "artwork-burn-delete", "artwork+burn"),
    Case("web", "POST", "privacy-gallery-set", "made", {"granted": "1"}),
    Case("web", "GET", "gallery-publish", "artwork+version"),
    Case("web", "POST", "gallery-publish", "artwork+version", {"title": "Mine now"}),
    Case("web", "POST", "gallery-unpublish", "item"),
    Case("web", "GET", "production-send", "artwork+version"),
    Case("web", "POST", "production-send", "artwork+version", {"note": "Mine now"}),
    Case("web", "GET", "production-order", "order"),
    Case("web", "POST", "production-cancel", "order"),
    Case("web", "POST", "account-token-revoke", "token"),
    Case("web", "GET", "jewellery-piece", "piece"),
    Case("web", "GET", "jewellery-references", "piece"),
    Case("web", "GET", "jewellery-attributes", "piece"),
    Case("web", "POST", "jewellery-reanalyse", "piece"),
    Case("web", "POST", "jewellery-confirm", "piece", {"type": "ring", "metal": "rose_gold", "shot-0": "sketch"}),
    Case("web", "POST", "jewellery-prompt", "piece",
         {"preset": "white_packshot", "aspect_ratio": "1:1", "variants": "1"}),
    Case("web", "POST", "jewellery-generate", "piece",
         {"preset": "white_packshot", "aspect_ratio": "1:1", "variants": "1", "idempotency_key": "j13"}),
    Case("web", "GET", "jewellery-generations", "piece"),
    Case("web", "GET", "jewellery-delete", "piece"),
    Case("web", "POST", "jewellery-delete", "piece"),
    Case("web", "POST", "jewellery-generation-cancel", "generation"),
    Case("web", "GET", "jewellery-generation-delete", "generation"),
    Case("web", "POST", "jewellery-generation-delete", "generation"),
    Case("web", "POST", "jewellery-kit-save", "piece", {"preset": "white_packshot", "kit_name": "Mine now"}),
    Case("web", "POST", "jewellery-kit-apply", "piece", {"kit": "{kit}"}),
    Case("web", "POST", "jewellery-kit-delete", "kit"),
    Case("web", "GET", "jewellery-batch", "batch"),
    Case("web", "POST", "jewellery-regenerate-free", "check"),
    # Ids inside a form body: starting an artwork from someone else's photo.
    Case("web", "POST", "artwork-new", "photo", {"photo": "{photo}"}),
]  # fmt: skip
# A multipart request with one small photo, for the routes that take an upload.
PHOTO_UPLOAD = {"files": "a photo"}

API_CASES = [
    Case("api", "GET", "/api/v1/jobs/{job_id}", "job"),
    Case("api", "DELETE", "/api/v1/jobs/{job_id}", "job"),
    Case("api", "POST", "/api/v1/jobs/{job_id}/cancel", "job"),
    Case("api", "GET", "/api/v1/assets/{asset_id}/content", "photo"),
    Case("api", "POST", "/api/v1/assets/{asset_id}/signed-url", "photo", {}),
    Case("api", "GET", "/api/v1/engrave/artworks/{artwork_id}", "artwork"),
    Case("api", "PATCH", "/api/v1/engrave/artworks/{artwork_id}", "artwork", {"title": "Mine now"}),
    Case("api", "DELETE", "/api/v1/engrave/artworks/{artwork_id}", "artwork"),
    Case("api", "POST", "/api/v1/engrave/artworks/{artwork_id}/versions", "artwork", {"settings": SLATE}),
    Case("api", "POST", "/api/v1/engrave/artworks/{artwork_id}/styles", "artwork", {}),
    Case("api", "GET", "/api/v1/engrave/machines/mine/{profile_id}", "machine"),
    Case("api", "PATCH", "/api/v1/engrave/machines/mine/{profile_id}", "machine", {"name": "Mine now"}),
    Case("api", "DELETE", "/api/v1/engrave/machines/mine/{profile_id}", "machine"),
    Case("api", "GET", "/api/v1/engrave/presets/{preset_id}", "preset"),
    Case("api", "PATCH", "/api/v1/engrave/presets/{preset_id}", "preset", {"notes": "Mine now"}),
    Case("api", "DELETE", "/api/v1/engrave/presets/{preset_id}", "preset"),
    Case("api", "PUT", "/api/v1/privacy/gallery/{asset_id}", "made", {"published": True}),
    Case("api", "DELETE", "/api/v1/gallery/items/{public_id}", "item"),
    Case("api", "DELETE", "/api/v1/tokens/{token_id}", "token"),
    Case("api", "GET", "/api/v1/jewellery/pieces/{piece_id}", "piece"),
    Case("api", "PUT", "/api/v1/jewellery/pieces/{piece_id}/attributes", "piece", {"attributes": ATTRIBUTES}),
    Case("api", "POST", "/api/v1/jewellery/pieces/{piece_id}/analysis", "piece"),
    Case("api", "POST", "/api/v1/jewellery/pieces/{piece_id}/prompt", "piece", BRIEF),
    Case("api", "POST", "/api/v1/jewellery/pieces/{piece_id}/generations", "piece", BRIEF),
    Case("api", "GET", "/api/v1/jewellery/pieces/{piece_id}/generations", "piece"),
    Case("api", "DELETE", "/api/v1/jewellery/pieces/{piece_id}", "piece"),
    Case("api", "GET", "/api/v1/jewellery/generations/{generation_id}", "generation"),
    Case("api", "DELETE", "/api/v1/jewellery/generations/{generation_id}", "generation"),
    Case("api", "DELETE", "/api/v1/jewellery/kits/{kit_id}", "kit"),
    Case("api", "GET", "/api/v1/jewellery/batches/{batch_id}", "batch"),
    Case("api", "POST", "/api/v1/jewellery/design-checks/{check_id}/regenerate", "check"),
    Case("api", "GET", "/api/v1/engrave/cards/{card_id}", "card"),
    Case("api", "POST", "/api/v1/engrave/cards/{card_id}/readings", "card", PHOTO_UPLOAD),
    Case("api", "GET", "/api/v1/engrave/readings/{reading_id}", "reading"),
    Case("api", "GET", "/api/v1/engrave/calibrations/{calibration_id}", "calibration"),
    Case("api", "DELETE", "/api/v1/engrave/calibrations/{calibration_id}", "calibration"),
    Case("api", "POST", "/api/v1/engrave/calibrations/{calibration_id}/checks", "calibration",
         {"reading": "{reading}"}),
    Case("api", "POST", "/api/v1/engrave/artworks/{artwork_id}/versions/{number}/burn-reports", "artwork+version",
         PHOTO_UPLOAD),
    Case("api", "GET", "/api/v1/engrave/artworks/{artwork_id}/burn-reports", "artwork"),
    Case("api", "GET", "/api/v1/engrave/burn-reports/{report_id}", "burn"),
    Case("api", "POST", "/api/v1/engrave/artworks/{artwork_id}/versions/{number}/production-orders",
         "artwork+version", {"note": "Mine now"}),
    Case("api", "GET", "/api/v1/production/orders/{order_number}", "order"),
    Case("api", "POST", "/api/v1/production/orders/{order_number}/cancel", "order"),
    Case("api", "GET", "/api/v1/production/orders/{order_number}/captures", "order"),
    Case("api", "DELETE", "/api/v1/engrave/burn-reports/{report_id}", "burn"),
    # Ids inside a JSON body.
    Case("api", "POST", "/api/v1/engrave/calibrations", "reading", {"reading": "{reading}"}, 404, "reading_not_ready"),
    Case("api", "POST", "/api/v1/jobs", "photo", {"kind": "preview", "inputs": ["{photo}"]}, 422, "invalid_inputs"),
    Case("api", "POST", "/api/v1/engrave/artworks", "photo", {"source": "{photo}"}, 404, "invalid_source"),
    Case("api", "POST", "/api/v1/jewellery/batches/quote", "kit", {"kit_id": "{kit}", "piece_ids": ["{piece}"]}),
    Case("api", "POST", "/api/v1/jewellery/batches", "piece",
         {"kit_id": "{kit}", "piece_ids": ["{piece}"], "credits": 1}),
    Case("api", "POST", "/api/v1/engrave/previews", "photo", {"source": "{photo}", "settings": SLATE}, 404,
         "invalid_source"),
    Case("api", "POST", "/api/v1/gallery/items", "artwork", {"artwork_id": "{artwork}", "version": "{version}",
                                                             "title": "Mine now"}),
    # A GET's body is its query.
    Case("api", "GET", "/api/v1/engrave/previews/photos/{source_id}", "photo",
         {"width": 60, "height": 40, "fit": "crop"}, 404, "invalid_source"),
]  # fmt: skip
# Routes with a parameter that names no owned object, and why they are outside the matrix.
WEB_EXEMPT = {
    "verify-email": "a signed one-time link from an e-mail",
    "password-reset-confirm": "a signed one-time link from an e-mail",
    "email-change-confirm": "a signed one-time link from an e-mail",
    "sign-in-link-use": "a one-time sign-in link from an e-mail (only its digest is stored)",
    "privacy-consent-set": "a consent scope name, always of the signed-in account",
    "library-material": "the public material library",
    "webhook-provider": "a provider name; each delivery is authenticated by its signature, not an account",
    "billing-checkout": "a plan or credit pack name, always bought for the signed-in account",
    # Public pages of published items and the moderators' pages: every role is checked in
    # tests/gallery/test_access_matrix.py.
    "gallery-item": "a published gallery item, public by its owner's choice (E14)",
    "gallery-picture": "a picture of a published gallery item, public by its owner's choice (E14)",
    "gallery-use": "a published gallery item's recipe, used on the visitor's own photo",
    "gallery-report": "a published gallery item, reported by anyone signed in",
    "moderation-item": "a moderator's page (the moderator role, not ownership)",
    # Reviewers' pages: the reviewer role and the owner's internal_review consent, not ownership; every role is
    # checked in tests/review/test_access_matrix.py.
    "review-item": "a reviewer's page of a photo its owner allows for internal review (E13)",
    "review-curate": "a reviewer's curation of a photo its owner allows for internal review (E6, E13)",
    "review-file": "a reviewer's audited view of a photo its owner allows for internal review (E13)",
    # The workshop's pages: the factory role and the order's assignment, not ownership; every role is checked in
    # tests/production/test_access_matrix.py.
    "workshop-order": "an order assigned to a workshop member (the factory role, not ownership)",
    "workshop-file": "a file of an order assigned to a workshop member (the factory role, not ownership)",
    "workshop-capture": "an order assigned to a workshop member (the factory role, not ownership)",
}
API_EXEMPT = {("PUT", "/api/v1/privacy/consents/{scope}"): "a consent scope name, always of the calling account"}
API_EXEMPT[("GET", "/api/v1/gallery/items/{public_id}")] = (
    "a published gallery item, public by its owner's choice (E14)"
)


@dataclass
class World:
    ids: dict[str, int | str]
    owner_token: str


def calibration_world(user) -> tuple[CalibrationProfile, Job, Job]:
    """A calibration, a verify card made with it and a reading of that card (as the jobs leave them, not run)."""
    tone = [[0.25, 0.3], [0.5, 0.6], [0.75, 0.85], [1.0, 1.0]]
    setup = {"material": "birch-plywood", "machine": "diode-10w", "mode": "floyd-steinberg"}
    calibration = CalibrationProfile.objects.create(
        owner=user, **setup, machine_label="Diode", machine_kind="diode", line_interval_mm=0.1,
        mark_diameter_mm=0.19, tone=tone,
    )  # fmt: skip
    spec = {"profile": calibration.pk, "label": "", "mark_diameter_mm": 0.19, "tone": tone}
    card = Job.objects.create(
        owner=user, kind="engrave.card", state=JobState.SUCCEEDED, params={**setup, "card_id": 7, "calibration": spec}
    )
    layout = {"width_mm": 108.6, "height_mm": 108.6, "line_interval_mm": 0.1, "grid": []}
    card_json = stored(json.dumps(layout).encode(), owner=user, name="card.json")
    Asset.objects.filter(pk=card_json.pk).update(role="card-json", produced_by=card, mime="application/json")
    card_png = stored(b"png", owner=user, name="card.png")
    Asset.objects.filter(pk=card_png.pk).update(role="png", produced_by=card, mime="image/png")
    result = {"mark_diameter_mm": 0.19, "tone": tone, "tone_response": [], "best_cell": {}, "tone_error": 0.02}
    reading = Job.objects.create(owner=user, kind="engrave.card_read", state=JobState.SUCCEEDED, result=result)
    reading.inputs.add(card_json)
    return calibration, card, reading


@pytest.fixture
def world(user) -> World:
    """One account with one of everything another account might try to reach."""
    credits_grant_monthly(user=user, period="2026-11")
    job, photo = uploaded_photo(user)
    made = stored(b"\x89PNG finished work", owner=user)
    artwork = engrave.artwork_create(owner=user, source=photo, title="Rex on slate")
    machine = engrave.machine_profile_save(owner=user, values=MACHINE)
    preset = engrave.material_preset_save(owner=user, values={**PRESET, "adjustments": {}})
    token, _ = api_token_create(user=user, name="laser software")
    piece = jewellery.piece_create(
        owner=user, uploads=[SimpleUploadedFile("ring.jpg", jpeg_bytes(400, 300), "image/jpeg")]
    )
    jewellery.piece_confirm(piece=piece, attributes=ATTRIBUTES)
    generation = jewellery.generation_create(piece=piece, brief=jewellery.brief_validate(BRIEF))
    kit = jewellery.style_kit_save(owner=user, name="Website", brief=jewellery.brief_validate(BRIEF))
    batch = Batch.objects.create(owner=user, brief=BRIEF, piece_ids=[piece.pk], credits=1)
    # A finished generation with a flagged design check of its image (as a remote generation's job leaves it).
    made_by = Job.objects.create(
        owner=user, kind="jewellery.generate", state=JobState.SUCCEEDED, params=generation.job.params
    )
    made_by.inputs.set(piece.references.all())
    image = stored(b"\x89PNG generated", owner=user, kind=AssetKind.GENERATED_IMAGE)
    Asset.objects.filter(pk=image.pk).update(role="image-0", produced_by=made_by)
    check = DesignCheck.objects.create(
        image=image,
        generation=Generation.objects.create(piece=piece, job=made_by),
        score=0.2,
        changes=["a stone is missing near the top"],
        flagged=True,
    )
    calibration, card, reading = calibration_world(user)
    # A version as its files' job leaves it deleted: enough for the routes that name it.
    version = ArtworkVersion.objects.create(artwork=artwork, number=1, settings=SLATE)
    burn = BurnReport.objects.create(owner=user, version=version, photo=stored(b"photo", owner=user))
    # Published in the gallery (as publishing leaves it, without pictures): what an owner unpublishes.
    item = GalleryItem.objects.create(
        owner=user,
        version=version,
        artwork_asset=made,
        title="Rex",
        recipe=SLATE,
        material="slate",
        machine_kind="diode",
    )
    # Sent to the workshop (as submitting leaves it): what an owner follows and cancels.
    order = Order.objects.create(owner=user, version=version, note="Centre it")
    ids = {
        "calibration": calibration.pk,
        "card": card.pk,
        "reading": reading.pk,
        "version": version.number,
        "burn": burn.pk,
        "job": job.pk,
        "photo": photo.pk,
        "made": made.pk,
        "artwork": artwork.pk,
        "machine": machine.pk,
        "preset": preset.pk,
        "token": token.pk,
        "piece": piece.pk,
        "generation": generation.pk,
        "kit": kit.pk,
        "batch": batch.pk,
        "check": check.pk,
        "item": item.public_id,
        "order": order.number,
    }
    return World(ids=ids, owner_token=make_token(user, name="owner script"))


def snapshot(user) -> dict:
    """Everything of the owner's that a request could change."""
    assets = list(Asset.objects.filter(owner=user).order_by("pk").values("pk", "storage_key", "published_at"))
    return {
        "jobs": list(Job.objects.filter(owner=user).order_by("pk").values("pk", "state", "cancel_requested")),
        "assets": assets,
        "blobs": [blob_exists(a["storage_key"]) for a in assets],
        "artworks": list(Artwork.objects.filter(owner=user).order_by("pk").values()),
        "machines": list(MachineProfile.objects.filter(owner=user).order_by("pk").values()),
        "presets": list(MaterialPreset.objects.filter(owner=user).order_by("pk").values()),
        "calibrations": list(CalibrationProfile.objects.filter(owner=user).order_by("pk").values()),
        "burn_reports": list(BurnReport.objects.filter(owner=user).order_by("pk").values()),
        "pieces": list(Piece.objects.filter(owner=user).order_by("pk").values()),
        "generations": list(Generation.objects.filter(piece__owner=user).order_by("pk").values()),
        "kits": list(StyleKit.objects.filter(owner=user).order_by("pk").values()),
        "batches": list(Batch.objects.filter(owner=user).order_by("pk").values()),
        "design_checks": list(DesignCheck.objects.filter(generation__piece__owner=user).order_by("pk").values()),
        "tokens": list(ApiToken.objects.filter(user=user).order_by("pk").values("pk", "name", "revoked_at")),
        "consents": ConsentEvent.objects.filter(user=user).count(),
        "gallery": list(GalleryItem.objects.filter(owner=user).order_by("pk").values()),
        "orders": list(Order.objects.filter(owner=user).order_by("pk").values()),
        "ledger": LedgerEntry.objects.filter(user=user).count(),
    }


def _fill(value, ids: dict[str, int]):
    if isinstance(value, str) and value.startswith("{") and value.endswith("}") and value[1:-1] in ids:
        return ids[value[1:-1]]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def send(case: Case, world: World, *, as_user=None, token: str | None = None):
    ids = world.ids
    body = _fill(case.body, ids)
    if case.surface == "web":
        client = Client()
        client.force_login(as_user)
        # artwork-new takes the photo in its form body; every other route takes the id in its path.
        # A target "artwork+burn" names two of them, in the path's order.
        args = [*(ids[name] for name in case.target.split("+")), *case.tail]
        url = reverse(case.route) if case.route == "artwork-new" else reverse(case.route, args=args)
        return client.get(url) if case.method == "GET" else client.post(url, body or {})
    targets = iter(case.target.split("+"))
    path = re.sub(r"\{\w+\}", lambda _: str(ids[next(targets)]), case.route)
    if case.body is PHOTO_UPLOAD:
        photo = SimpleUploadedFile("burned.jpg", jpeg_bytes(160, 120), "image/jpeg")
        return Client().post(path, {"files": photo}, **bearer(token))
    kwargs = {"content_type": "application/json"} if body is not None else {}
    return getattr(Client(), case.method.lower())(
        path, *([body] if body is not None else []), **kwargs, **bearer(token)
    )


@pytest.mark.parametrize("case", WEB_CASES + API_CASES, ids=lambda case: case.id)
def test_J13_another_account_is_refused_every_owner_scoped_url_and_changes_nothing(case, world, user, other_user):
    before = snapshot(user)
    response = send(case, world, as_user=other_user, token=make_token(other_user))
    assert response.status_code == case.status, response.content[:300]
    if case.surface == "api":
        assert response.json()["error"]["code"] == case.code
    assert snapshot(user) == before
    # Control: the same request from the owner is not refused, so the URL really names the object.
    assert send(case, world, as_user=user, token=world.owner_token).status_code not in (403, 404, 422)


def _web_routes_with_parameters() -> dict[str, str]:
    found: dict[str, str] = {}

    def walk(patterns, prefix: str, converters: dict) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                if route.startswith(("admin/", "api/")):
                    continue  # staff-only admin; the API is checked against its OpenAPI document
                walk(pattern.url_patterns, route, {**converters, **pattern.pattern.converters})
            elif isinstance(pattern, URLPattern) and {**converters, **pattern.pattern.converters}:
                found[pattern.name] = route

    walk(get_resolver().url_patterns, "", {})
    return found


def test_J13_the_matrix_covers_every_route_that_takes_an_id():
    """Adding a route with an id without adding it to the matrix (or to the exemptions, with a reason) fails here."""
    web = _web_routes_with_parameters()
    covered = {case.route for case in WEB_CASES}
    assert set(web) - covered - set(WEB_EXEMPT) == set(), "web routes missing from the J13 matrix"
    assert set(WEB_EXEMPT) <= set(web), "stale exemptions"
    paths = api.get_openapi_schema()["paths"]
    with_ids = {
        (method.upper(), path)
        for path, item in paths.items()
        for method, operation in item.items()
        if any(p["in"] == "path" for p in operation.get("parameters", []))
    }
    api_covered = {(case.method, case.route) for case in API_CASES}
    assert with_ids - api_covered - set(API_EXEMPT) == set(), "API operations missing from the J13 matrix"
    assert api_covered - {(m.upper(), p) for p, item in paths.items() for m in item} == set(), "stale API cases"


def test_J13_settings_cannot_name_another_accounts_machine(world, other_user):
    _, photo = uploaded_photo(other_user)
    with pytest.raises(engrave.StudioRefused) as refused:
        engrave.artwork_create(
            owner=other_user, source=photo, settings={**SLATE, "machine_profile": world.ids["machine"]}
        )
    assert refused.value.code == "invalid_settings"


# ============================================================================================================ J17
# A user deletes any job and its images from the dashboard, at any time.


@pytest.fixture
def paid_previews(user, settings):
    settings.JOB_COSTS = {**settings.JOB_COSTS, "preview": 1}
    credits_grant_monthly(user=user, period="2026-11")


def _ledger_without_content(user, keys: set[str]) -> None:
    rows = list(LedgerEntry.objects.filter(user=user).exclude(kind=EntryKind.GRANT).values())
    assert rows, "the usage record stays"
    for row in rows:
        assert row["job_id"] is None, "the ledger keeps no link to the deleted job"
        text = json.dumps(row, default=str)
        assert not any(key in text or key.split("/")[-1] in text for key in keys)


def test_J17_a_job_and_every_image_it_holds_are_deleted_from_the_dashboard(logged_in, user, paid_previews):
    assert logged_in.post(reverse("upload"), {"file": [photo_upload()]}, **JSON).status_code == 201
    run_queued_jobs()
    job = Job.objects.get(owner=user)
    keys = all_blob_keys()
    assert len(keys) == 3 and all(blob_exists(key) for key in keys)  # the photo, its preview, its thumbnail
    # The dashboard leads to the job, whose page offers the delete.
    assert reverse("job-detail", args=[job.pk]) in logged_in.get(reverse("dashboard")).content.decode()
    page = logged_in.get(reverse("job-detail", args=[job.pk])).content.decode()
    assert f'action="{reverse("job-delete", args=[job.pk])}"' in page
    response = logged_in.post(reverse("job-delete", args=[job.pk]))
    assert response.status_code == 302
    assert not Job.objects.filter(pk=job.pk).exists()
    assert not Asset.objects.filter(owner=user).exists()
    assert not any(blob_exists(key) for key in keys)
    assert storage_scan().blobs == 0
    _ledger_without_content(user, keys)
    assert credit_balance(user=user) == 19  # the finished job was paid for; deleting it is not a refund


def test_J17_a_job_in_flight_is_cancelled_by_the_delete_and_its_late_output_never_lands(logged_in, user, paid_previews):
    job = upload_photo(owner=user, upload=io.BytesIO(jpeg_bytes(480, 360)))
    keys = all_blob_keys()
    claimed, token, _ = _claim(job.pk)  # a worker has started on it
    worker = JobContext(claimed, token, LeaseKeeper(job.pk, token))
    assert claimed.state == JobState.RUNNING
    assert logged_in.post(reverse("job-delete", args=[job.pk])).status_code == 302
    assert not Job.objects.filter(pk=job.pk).exists()
    assert credit_balance(user=user) == 20  # cancelled: the reservation came back
    with pytest.raises(LeaseLost):
        worker.save_output(kind="preview", role="web", data=b"late", mime="image/jpeg", download_name="late.jpg")
    with pytest.raises(LeaseLost):
        worker.progress(50)
    assert not Asset.objects.filter(owner=user).exists()
    assert not any(blob_exists(key) for key in keys)
    assert storage_scan().blobs == 0  # the late output's blob was removed too
    _ledger_without_content(user, keys)
    assert sorted(LedgerEntry.objects.filter(user=user).values_list("kind", flat=True)) == [
        EntryKind.GRANT,
        EntryKind.RELEASE,
        EntryKind.RESERVE,
    ]


# ============================================================================================================ J30
# In transit: TLS. Outside local development cookies are Secure and HSTS is sent.


def test_J30_over_https_cookies_are_secure_and_hsts_is_sent(client, user, settings, tmp_path):
    """The test settings are production's (DEBUG off), with the cookie flags an https base URL gives."""
    https = settings_under(tmp_path, INTAGLIO_BASE_URL="https://studio.example.com")
    settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE = (
        https["SESSION_COOKIE_SECURE"],
        https["CSRF_COOKIE_SECURE"],
    )
    client.get(reverse("login"), secure=True)
    response = client.post(reverse("login"), {"username": user.email, "password": PASSWORD}, secure=True)
    assert response.status_code == 302
    hsts = response["Strict-Transport-Security"]
    assert int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 365 * 24 * 3600 and "includeSubDomains" in hsts
    for name in ("sessionid", "csrftoken"):
        assert client.cookies[name]["secure"] is True, name


def settings_under(tmp_path, **env) -> dict | subprocess.CompletedProcess:
    """The settings module as a fresh process loads it with these environment variables (and no others of ours)."""
    names = (
        "DEBUG",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
        "SECURE_SSL_REDIRECT",
        "DATABASES",
        "STORAGES",
        "SUBPROCESSORS",
    )
    code = (
        "import json; from intaglio import settings as s; "
        f"print(json.dumps({{n: getattr(s, n) for n in {names!r}}}, default=str))"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith("INTAGLIO_") and k != "DATABASE_URL"}
    full = {**base, "INTAGLIO_DATA_DIR": str(tmp_path), "INTAGLIO_SECRET_KEY": "s" * 60, **env}
    done = subprocess.run([sys.executable, "-c", code], env=full, capture_output=True, text=True, timeout=120)
    return json.loads(done.stdout) if done.returncode == 0 else done


def test_J30_tls_protections_follow_an_https_base_url(tmp_path):
    production = settings_under(tmp_path, INTAGLIO_DEBUG="0", INTAGLIO_BASE_URL="https://studio.example.com")
    assert production["SESSION_COOKIE_SECURE"] and production["CSRF_COOKIE_SECURE"]
    assert production["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600
    assert production["SECURE_SSL_REDIRECT"] is True
    # Debug does not loosen them: a site on https always marks its cookies Secure.
    debugging = settings_under(tmp_path, INTAGLIO_DEBUG="1", INTAGLIO_BASE_URL="https://studio.example.com")
    assert debugging["SESSION_COOKIE_SECURE"] and debugging["CSRF_COOKIE_SECURE"]
    # Nothing set: a local server on plain http, out of debug, whose sign-in works without TLS.
    default = settings_under(tmp_path)
    assert default["DEBUG"] is False and default["SECURE_HSTS_SECONDS"] > 0
    assert not default["SESSION_COOKIE_SECURE"] and not default["CSRF_COOKIE_SECURE"]
    local = settings_under(tmp_path, INTAGLIO_DEBUG="1")  # local development over plain http
    assert not local["SESSION_COOKIE_SECURE"] and local["SECURE_HSTS_SECONDS"] == 0


def test_J30_a_remote_database_is_reached_over_tls(tmp_path):
    loaded = settings_under(tmp_path, DATABASE_URL="postgresql://intaglio:secret@db.example.com:5432/intaglio")
    assert isinstance(loaded, dict), loaded.stderr
    assert loaded["DATABASES"]["default"].get("OPTIONS", {}).get("sslmode") in ("require", "verify-ca", "verify-full")


def test_J30_a_remote_bucket_is_reached_over_tls(tmp_path):
    bucket = {"INTAGLIO_S3_BUCKET": "intaglio-files", "INTAGLIO_S3_REGION": "eu-west-1"}
    secure = settings_under(tmp_path, **bucket, INTAGLIO_S3_ENDPOINT_URL="https://s3.example.com")
    assert isinstance(secure, dict), secure.stderr
    plain = settings_under(tmp_path, **bucket, INTAGLIO_S3_ENDPOINT_URL="http://s3.example.com")
    assert isinstance(plain, subprocess.CompletedProcess), "a plain-http remote bucket was accepted"
    assert "ImproperlyConfigured" in plain.stderr


def test_J12_J8_J9_configured_providers_register_themselves_and_local_ones_send_nothing(tmp_path):
    offline = settings_under(tmp_path)
    assert isinstance(offline, dict), offline.stderr
    assert offline["SUBPROCESSORS"] == []
    remote = settings_under(
        tmp_path,
        INTAGLIO_ANALYSIS_PROVIDER="openrouter",
        OPENROUTER_API_KEY="k",
        INTAGLIO_GENERATION_PROVIDER="wavespeed",
        WAVESPEED_API_KEY="k",
        WAVESPEED_OUTPUT_HOSTS="cdn.example.net",
    )
    assert isinstance(remote, dict), remote.stderr
    hosts = {entry["name"]: entry["hosts"] for entry in remote["SUBPROCESSORS"]}
    assert hosts == {"OpenRouter": ["openrouter.ai"], "WaveSpeed AI": ["api.wavespeed.ai", "cdn.example.net"]}


# ============================================================================================================ J31
# No card numbers stored: no card field in any model, form, page or API schema.

CARD_WORDS = {
    "card", "cardnumber", "cardholder", "pan", "cvc", "cvv", "cvv2", "csc", "iban", "expmonth", "expyear",
    "securitycode", "ccnumber",
}  # fmt: skip


def _is_card_name(name: str) -> bool:
    parts = re.split(r"[_\-\s\[\].]+", re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower())
    joined = {"".join(parts[i : i + 2]) for i in range(len(parts) - 1)}
    return bool((set(parts) | joined) & CARD_WORDS)


def _form_classes() -> list[type[forms.BaseForm]]:
    found = []
    for info in pkgutil.walk_packages(intaglio.__path__, "intaglio."):
        if not info.name.rsplit(".", 1)[-1].startswith(("forms", "views", "admin")):
            continue
        module = importlib.import_module(info.name)
        found += [
            obj
            for obj in vars(module).values()
            if inspect.isclass(obj) and issubclass(obj, forms.BaseForm) and obj.__module__ == module.__name__
        ]
    return found


def _schema_names(node, owner: str = "openapi", listing: bool = False) -> set[tuple[str, str]]:
    """(owner, name) of every property and parameter; the owner is the schema or path that declares it."""
    names = set()
    if isinstance(node, dict):
        names |= {(owner, name) for name in node.get("properties", {})}
        names |= {(owner, p["name"]) for p in node.get("parameters", []) if isinstance(p, dict) and "name" in p}
        for key, value in node.items():
            names |= _schema_names(value, key if listing else owner, key in ("schemas", "paths"))
    elif isinstance(node, list):
        for value in node:
            names |= _schema_names(value, owner)
    return names


# The material test card (docs/card-format.md) is a burnable calibration card, not a payment card: these exact names,
# where they are declared, are the only "card" words allowed.
TEST_CARD_NAMES = {
    ("ReadingOut", "card"),
    ("ReadingResultOut", "card_id"),
    ("/api/v1/engrave/cards/{card_id}", "card_id"),
    ("/api/v1/engrave/cards/{card_id}/readings", "card_id"),
}


def test_J31_no_card_field_anywhere():
    from intaglio.accounts.forms import SignUpForm

    form_classes = _form_classes()
    assert SignUpForm in form_classes  # the scan sees the forms
    # (where it is, the field name) for every model field, form field, API property or parameter, and page input.
    names = {
        "models": [(m._meta.label, f.name) for m in apps.get_models() for f in m._meta.get_fields()],
        "forms": [(cls.__name__, name) for cls in form_classes for name in cls.base_fields],
        "api": sorted(_schema_names(api.get_openapi_schema()) - TEST_CARD_NAMES),
        "pages": [
            (path.name, name)
            for path in SRC.rglob("templates/**/*.html")
            for name in re.findall(
                r'<(?:input|select|textarea)\b[^>]*\bname="([^"{]+)"', path.read_text(encoding="utf-8")
            )
        ],
    }
    assert all(names.values())  # each scan saw something
    found = {
        where: [f"{owner}.{name}" for owner, name in listed if _is_card_name(name)] for where, listed in names.items()
    }
    assert found == {where: [] for where in names}
