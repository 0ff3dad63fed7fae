"""Content Credentials on generated jewellery images, read back from the file a customer downloads: the C2PA manifest
with c2pa's own Reader (trusting only the test root), the IPTC digital source type from the XMP packet with Pillow,
and no personal data anywhere in the file or the manifest."""

from __future__ import annotations

import io
import json

import c2pa
import pytest
from django.urls import reverse
from PIL import Image

from intaglio.credits.selectors import credit_balance
from intaglio.credits.services import credits_grant_monthly
from intaglio.imaging.provenance import COMPOSITE_SYNTHETIC, TRAINED_ALGORITHMIC_MEDIA
from intaglio.jewellery import services
from intaglio.jobs.models import Job, JobState
from tests.content_credentials import TEST_SIGNER, make_test_chain
from tests.factories import PASSWORD, make_user, run_queued_jobs
from tests.jewellery import ATTRIBUTES, ring_upload
from tests.jewellery.test_remote_generation import remote  # noqa: F401  the fakes and a live server

EMAIL = "ada.lovelace.private@example.com"
USER_ID = 73519264
FILE_NAME = "ada-lovelace-engagement-ring-secret.jpg"
TITLE = "Lovelace family heirloom"


@pytest.fixture
def chain(settings, tmp_path):
    test_chain = make_test_chain(tmp_path)
    settings.C2PA_CERT, settings.C2PA_KEY = str(test_chain.cert), str(test_chain.key)
    return test_chain


def _downloads(client, owner, remote_service=None) -> list[tuple[bytes, str]]:
    """Makes a piece from a reference with a telling file name, generates two images, and downloads them as a
    customer does: logged in, through the web download route."""
    uploads = [ring_upload(FILE_NAME), ring_upload("b.jpg", angle_px=20)]
    piece = services.piece_create(owner=owner, uploads=uploads, title=TITLE)
    run_queued_jobs()
    services.piece_confirm(piece=piece, attributes=ATTRIBUTES)
    generation = services.generation_create(
        piece=piece, brief=services.brief_validate({"metals": ["yellow_gold", "white_metal"]})
    )
    run_queued_jobs()
    if remote_service is not None:  # the fake finishes each prediction and posts its webhook, which wakes the job
        for prediction_id in remote_service.prediction_ids:
            remote_service.complete(prediction_id)
        run_queued_jobs()
    job = Job.objects.get(pk=generation.job_id)
    assert job.state == JobState.SUCCEEDED, job.error_detail
    assert client.login(email=owner.email, password=PASSWORD)
    files = []
    for asset in job.outputs.order_by("role"):
        answer = client.get(reverse("asset-download", args=[asset.pk]) + "?download=1")
        assert answer.status_code == 200
        body = b"".join(answer.streaming_content) if answer.streaming else answer.content
        files.append((body, answer["Content-Type"].split(";")[0]))
    assert len(files) == 2
    return files


def _read_back(data: bytes, mime: str, root_pem: str) -> tuple[dict, str, str]:
    """(the active manifest, its validation state, the whole report as JSON) as c2pa's Reader sees them, trusting
    the test root."""
    context = c2pa.Context(
        c2pa.Settings.from_dict({"trust": {"user_anchors": root_pem}, "verify": {"verify_trust": True}})
    )
    with c2pa.Reader(mime, io.BytesIO(data), context=context) as reader:
        return reader.get_active_manifest(), reader.get_validation_state(), reader.json()


def _xmp_source_type(data: bytes) -> str:
    with Image.open(io.BytesIO(data)) as image:
        packet = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
    text = packet.decode() if isinstance(packet, bytes) else packet
    return text.split("<Iptc4xmpExt:DigitalSourceType>")[1].split("<")[0]


def _assert_no_personal_data(data: bytes, report: str, owner) -> None:
    stem = FILE_NAME.rsplit(".", 1)[0]
    for secret in (EMAIL, EMAIL.split("@")[0], FILE_NAME, stem, "Lovelace", str(USER_ID)):
        assert secret.encode() not in data, secret
        assert secret.lower() not in report.lower(), secret
    # No value anywhere in the manifest store is the account's id, as a number or as text.
    values = []

    def walk(node):
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        else:
            values.append(node)

    walk(json.loads(report))
    assert owner.pk not in values and str(owner.pk) not in values


@pytest.mark.django_db
def test_a_generation_that_cannot_be_signed_delivers_nothing_and_returns_its_credits(client, settings, tmp_path):
    settings.C2PA_CERT = settings.C2PA_KEY = str(tmp_path / "missing.pem")
    owner = make_user(email=EMAIL, id=USER_ID)
    credits_grant_monthly(user=owner, period="2026-11")
    piece = services.piece_create(owner=owner, uploads=[ring_upload(FILE_NAME), ring_upload("b.jpg", angle_px=20)])
    run_queued_jobs()
    services.piece_confirm(piece=piece, attributes=ATTRIBUTES)
    generation = services.generation_create(piece=piece, brief=services.brief_validate({}))
    run_queued_jobs()
    job = Job.objects.get(pk=generation.job_id)
    assert job.state == JobState.FAILED and "could not be marked as generated" in job.error_message
    assert job.outputs.count() == 0 and credit_balance(user=owner) == 20


@pytest.mark.django_db
def test_a_downloaded_local_packshot_carries_signed_credentials_and_no_personal_data(client, chain):
    owner = make_user(email=EMAIL, id=USER_ID)
    credits_grant_monthly(user=owner, period="2026-11")
    for data, mime in _downloads(client, owner):
        manifest, state, report = _read_back(data, mime, chain.root_pem)
        assert state == "Trusted", report
        (created,) = [a for a in manifest["assertions"] if a["label"].startswith("c2pa.actions")][0]["data"]["actions"]
        assert created["action"] == "c2pa.created"
        assert created["digitalSourceType"] == COMPOSITE_SYNTHETIC
        made_by = Job.objects.get(owner=owner, kind="jewellery.generate")
        assert created["softwareAgent"]["name"] == made_by.params["model"]  # the renderer that made it
        assert manifest["signature_info"]["common_name"] == TEST_SIGNER
        assert _xmp_source_type(data) == COMPOSITE_SYNTHETIC
        _assert_no_personal_data(data, report, owner)
    page = client.get(
        reverse("jewellery-piece", args=[Job.objects.get(kind="jewellery.generate").jewellery_generation.piece_id])
    )
    note = page.content.decode().split("data-credentials")[1].split("generation-prompts")[0]
    assert "Marked as a computer-made composite." in note and "composite with synthetic elements" in note
    assert "https://contentcredentials.org/verify" in note and "c2patool image.jpg" in note


@pytest.mark.django_db(transaction=True)
def test_a_downloaded_remote_image_is_marked_trained_algorithmic_media(client, chain, remote):  # noqa: F811
    owner = make_user(email=EMAIL, id=USER_ID)
    credits_grant_monthly(user=owner, period="2026-11")
    for data, mime in _downloads(client, owner, remote.generation):
        assert mime == "image/png"
        manifest, state, report = _read_back(data, mime, chain.root_pem)
        assert state == "Trusted", report
        (created,) = [a for a in manifest["assertions"] if a["label"].startswith("c2pa.actions")][0]["data"]["actions"]
        assert created["digitalSourceType"] == TRAINED_ALGORITHMIC_MEDIA
        assert _xmp_source_type(data) == TRAINED_ALGORITHMIC_MEDIA
        _assert_no_personal_data(data, report, owner)


def test_an_image_changed_after_signing_no_longer_validates(chain):
    from intaglio.jewellery.credentials import mark_generated

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 150, 40)).save(buffer, "PNG")
    signed = mark_generated(buffer.getvalue(), "image/png", provider="wavespeed", generator="some/model")
    assert _read_back(signed, "image/png", chain.root_pem)[1] == "Trusted"
    tampered = bytearray(signed)
    idat = signed.index(b"IDAT")
    tampered[idat + 8] ^= 0xFF
    assert _read_back(bytes(tampered), "image/png", chain.root_pem)[1] == "Invalid"


def test_the_deploy_check_warns_while_the_development_certificate_signs(settings, chain):
    from intaglio.jewellery.credentials import signing_check

    assert signing_check() == []
    settings.C2PA_CERT = settings.C2PA_KEY = ""
    assert [message.id for message in signing_check()] == ["intaglio.W101"]
    settings.C2PA_CERT = str(chain.cert)
    assert [message.id for message in signing_check()] == ["intaglio.E101"]
    settings.C2PA_KEY = str(chain.cert)  # a certificate where the key should be
    assert [message.id for message in signing_check()] == ["intaglio.E101"]
    settings.C2PA_CERT, settings.C2PA_KEY = str(chain.root), str(chain.root_key)  # a CA may not sign a manifest
    assert [message.id for message in signing_check()] == ["intaglio.E101"]


def test_without_a_configured_certificate_a_development_chain_signs_and_says_so(settings, tmp_path):
    from intaglio.jewellery.credentials import DEVELOPMENT_SIGNER, mark_generated

    settings.C2PA_CERT = settings.C2PA_KEY = ""
    settings.DATA_DIR = tmp_path
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 150, 40)).save(buffer, "JPEG")
    signed = mark_generated(buffer.getvalue(), "image/jpeg", provider="local", generator="intaglio-packshot/1")
    assert (tmp_path / "c2pa-development.pem").stat().st_mode & 0o077 == 0  # the key is this user's alone
    with c2pa.Reader("image/jpeg", io.BytesIO(signed)) as reader:
        assert reader.get_active_manifest()["signature_info"]["common_name"] == DEVELOPMENT_SIGNER
        assert reader.get_validation_state() == "Valid"  # intact, from a signer nobody trusts
