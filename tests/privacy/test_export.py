"""The data export (J24 access, J28 portability): a ZIP with manifest.json, valid against docs/export-schema.json,
every personal record, and the original files whose SHA-256 the manifest states. Erase-then-export (J26) shows only
the excepted records, each with its class and reason."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest

from intaglio.assets.models import Asset
from intaglio.assets.storage import blob_delete
from intaglio.core.models import AuditEvent
from intaglio.credits.models import LedgerEntry
from intaglio.privacy import rights
from intaglio.privacy.models import DataRequest
from tests.factories import PASSWORD, make_user
from tests.privacy.test_closure import make_stocked_account

pytestmark = pytest.mark.django_db

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "docs" / "export-schema.json"


def schema_errors(manifest: dict) -> list[str]:
    """Validates with the `jsonschema` package if installed, else with jsonschema_rs (installed with schemathesis);
    both are full JSON Schema 2020-12 validators, with format checks on."""
    schema = json.loads(SCHEMA_PATH.read_text())
    try:
        import jsonschema

        validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
        jsonschema.Draft202012Validator.check_schema(schema)
        return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(manifest)]
    except ImportError:
        import jsonschema_rs

        jsonschema_rs.meta.validate(schema)
        validator = jsonschema_rs.Draft202012Validator(schema, validate_formats=True)
        return [f"{e.instance_path}: {e.message}" for e in validator.iter_errors(manifest)]


def open_export(data: bytes) -> tuple[zipfile.ZipFile, dict]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None  # every member's CRC checks out
    return archive, json.loads(archive.read("manifest.json"))


def records(manifest: dict, section: str) -> list[dict]:
    return manifest["sections"][section]["records"]


def test_J28_export_is_a_zip_whose_manifest_follows_the_documented_schema():
    stock = make_stocked_account()
    archive, manifest = open_export(rights.data_export(user=stock.user))
    assert schema_errors(manifest) == []
    assert manifest["format"] == "intaglio-data-export" and manifest["format_version"] == 1
    assert manifest["subject"] == {"user_id": stock.user.pk, "email": stock.user.email, "account": "open"}
    assert {"manifest.json", "README.txt"} <= set(archive.namelist())


def test_J28_a_manifest_that_drifts_from_the_schema_is_caught():
    # The schema is strict (no unknown fields, typed values): the check above can fail.
    stock = make_stocked_account()
    _, manifest = open_export(rights.data_export(user=stock.user))
    manifest["sections"]["jobs"]["records"][0]["secret_field"] = 1
    manifest["files"][0]["sha256"] = "not-a-hash"
    errors = schema_errors(manifest)
    assert len(errors) >= 2


def test_J28_every_original_file_is_in_the_zip_and_its_hash_recomputes():
    stock = make_stocked_account()
    archive, manifest = open_export(rights.data_export(user=stock.user))
    files = manifest["files"]
    assert {f["asset_id"] for f in files} == {a.pk for a in Asset.objects.filter(owner=stock.user)}
    for entry in files:
        data = archive.read(entry["path"])
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert len(data) == entry["bytes"]
        assert entry["path"].startswith("files/")
    by_id = {f["asset_id"]: f for f in files}
    # Uploads and outputs sit in their own folders; the upload is the photo as stored (metadata stripped).
    assert by_id[stock.photo.pk]["path"].startswith("files/uploads/")
    assert by_id[stock.photo.pk]["sha256"] == stock.photo.sha256
    outputs = Asset.objects.filter(owner=stock.user, produced_by__isnull=False)
    assert outputs and all(by_id[a.pk]["path"].startswith("files/outputs/") for a in outputs)
    # Metadata rows point at the same paths.
    for row in records(manifest, "files"):
        assert row["path"] == by_id[row["id"]]["path"]


def test_J24_export_holds_every_personal_record():
    stock = make_stocked_account()
    user = stock.user
    rights.restriction_set(user=user, on=True)
    rights.restriction_set(user=user, on=False)
    _, manifest = open_export(rights.data_export(user=user))

    assert records(manifest, "account")[0]["email"] == user.email
    assert "password" not in json.dumps(records(manifest, "account"))
    assert [(c["scope"], c["granted"]) for c in records(manifest, "consent_events")] == [("derived_only", True)]
    jobs = {j["id"]: j for j in records(manifest, "jobs")}
    assert set(jobs) == {stock.preview_job.pk, stock.steps_job.pk, stock.in_flight.pk}
    assert jobs[stock.steps_job.pk]["params"] == stock.steps_job.params and jobs[stock.steps_job.pk]["state"]
    assert jobs[stock.preview_job.pk]["inputs"] == [stock.photo.pk] and jobs[stock.preview_job.pk]["outputs"]
    assert {f["id"] for f in records(manifest, "files")} == {a.pk for a in Asset.objects.filter(owner=user)}
    # A photo's name is personal data: its title and download name are in the export.
    (photo_row,) = [f for f in records(manifest, "files") if f["id"] == stock.photo.pk]
    assert photo_row["title"] == stock.photo.title and photo_row["download_name"] == stock.photo.download_name
    assert photo_row["title"]
    (artwork,) = records(manifest, "artworks")
    assert artwork["title"] == "Rex on slate" and artwork["source_asset_id"] == stock.photo.pk
    assert artwork["versions"] == [
        {
            "number": 1,
            "settings": {"material": "slate"},
            "job_id": stock.steps_job.pk,
            "created_at": artwork["versions"][0]["created_at"],
        }
    ]
    assert records(manifest, "machine_profiles")[0]["name"] == "Workshop diode"
    assert records(manifest, "material_presets")[0]["material"] == "slate"
    (calibration,) = records(manifest, "calibration_profiles")
    assert calibration["mark_diameter_mm"] == 0.14 and calibration["machine"] == f"mine:{stock.machine.pk}"
    assert [(m["key"], m["number"]) for m in records(manifest, "derived_metrics")] == [("quality_score", 0.82)]
    ledger_ids = {e["id"] for e in records(manifest, "ledger_entries")}
    assert ledger_ids == set(LedgerEntry.objects.filter(user=user).values_list("pk", flat=True)) and ledger_ids
    kinds = [r["kind"] for r in records(manifest, "data_requests")]
    assert kinds == ["restrict", "restrict", "access"]  # this export's own request is listed too
    # Each section says how long it is kept and why.
    for section in manifest["sections"].values():
        assert section["retention_class"] and section["kept"] and section["reason"]


def test_J24_export_never_holds_another_persons_data():
    mine, theirs = make_stocked_account(), make_stocked_account()
    _, manifest = open_export(rights.data_export(user=mine.user))
    text = json.dumps(manifest)
    assert theirs.user.email not in text
    their_assets = set(Asset.objects.filter(owner=theirs.user).values_list("pk", flat=True))
    assert their_assets.isdisjoint({f["asset_id"] for f in manifest["files"]})
    assert theirs.steps_job.pk not in {j["id"] for j in records(manifest, "jobs")}


def test_J24_each_export_is_a_recorded_request_and_an_audit_event(user):
    rights.data_export(user=user)
    request = DataRequest.objects.get(user=user)
    assert request.kind == "access" and request.status == "completed" and request.channel == "self_service"
    assert request.completed_at is not None and "Export downloaded" in request.outcome
    event = AuditEvent.objects.get(action="data_export.built")
    assert event.subject_user_id == user.pk and event.actor_id == user.pk and event.detail["purpose"] == "self_service"


@pytest.mark.leaves_orphans
def test_J28_a_missing_blob_is_listed_not_silently_dropped():
    stock = make_stocked_account()
    blob_delete(stock.loose_upload.storage_key)
    archive, manifest = open_export(rights.data_export(user=stock.user))
    assert manifest["missing_files"] == [
        {"asset_id": stock.loose_upload.pk, "reason": "The stored file could not be read."}
    ]
    row = next(r for r in records(manifest, "files") if r["id"] == stock.loose_upload.pk)
    assert row["path"] is None
    assert schema_errors(manifest) == []


def test_J26_erase_then_export_shows_only_the_excepted_records_with_class_and_reason():
    stock = make_stocked_account()
    user_id, email = stock.user.pk, stock.user.email
    rights.data_export(user=stock.user)  # an earlier access request, also a kept record
    erasure = rights.erasure_request(user=stock.user, password=PASSWORD)
    officer = make_user(is_staff=True, is_superuser=True)

    archive, manifest = open_export(rights.subject_export(actor=officer, data_request=erasure))

    assert schema_errors(manifest) == []
    assert manifest["subject"] == {"user_id": user_id, "email": email, "account": "purged"}
    non_empty = {name for name, section in manifest["sections"].items() if section["records"]}
    assert non_empty == {"ledger_entries", "data_requests"}
    ledger = manifest["sections"]["ledger_entries"]
    assert ledger["retention_class"] == "billing" and ledger["reason"] == "billing records, kept 6 years"
    assert ledger["survives_erasure"] is True
    assert all(row["pseudonymised_at"] for row in ledger["records"])
    requests = manifest["sections"]["data_requests"]
    assert requests["retention_class"] == "data_request"
    assert requests["reason"] == "record of your request, kept 3 years"
    assert [r["kind"] for r in requests["records"]] == ["access", "erase"]
    # Only the excepted classes may survive an erasure, and no file at all.
    survivors = {name for name, section in manifest["sections"].items() if section["survives_erasure"]}
    assert non_empty <= survivors
    assert manifest["files"] == [] and [n for n in archive.namelist() if n.startswith("files/")] == []
    event = AuditEvent.objects.filter(action="data_export.built").latest("at")
    assert event.actor_id == officer.pk and event.detail["purpose"] == "privacy_officer"
