"""A catalogue rather than one piece at a time: style kits, remembered choices, batches with one confirmed total,
and `intaglio jewellery batch` over a folder of references (local providers, real worker loop)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from intaglio.credits.selectors import credit_balance
from intaglio.credits.services import credits_grant_monthly
from intaglio.jewellery import selectors, services
from intaglio.jewellery.models import Batch, Generation, Piece, StyleKit
from intaglio.jobs.models import JobState
from tests.factories import run_queued_jobs
from tests.jewellery import ATTRIBUTES, ring_jpeg, ring_upload

pytestmark = pytest.mark.django_db

KIT = {"preset": "macro_detail", "aspect_ratio": "4:5", "variants": 1, "metals": ["rose_gold", "white_metal"]}
# A brief as stored: every choice, those not given at their defaults.
SAVED_KIT = {**KIT, "angle": "as_reference", "shadow": "soft"}


@pytest.fixture
def funded(user):
    credits_grant_monthly(user=user, period="2026-11")
    return user


def confirmed_pieces(owner, count: int) -> list[Piece]:
    pieces = []
    for n in range(count):  # one at a time: the free plan runs two jobs at once
        piece = services.piece_create(
            owner=owner, uploads=[ring_upload(f"ring-{n}.jpg", angle_px=7 * n)], title=f"Ring {n}"
        )
        run_queued_jobs()
        pieces.append(services.piece_confirm(piece=piece, attributes={**ATTRIBUTES, "shots": ATTRIBUTES["shots"][:1]}))
    return pieces


def test_the_step_three_choices_are_kept_on_the_piece(funded, client):
    piece = confirmed_pieces(funded, 1)[0]
    client.force_login(funded)
    form = {"preset": "macro_detail", "aspect_ratio": "3:4", "variants": "2", "metals": ["rose_gold"]}
    assert client.post(f"/jewellery/{piece.pk}/prompt/", form).status_code == 200
    piece.refresh_from_db()
    assert piece.brief == {
        "preset": "macro_detail", "aspect_ratio": "3:4", "angle": "as_reference", "shadow": "soft", "variants": 2,
        "metals": ["rose_gold"],
    }  # fmt: skip
    page = client.get(f"/jewellery/{piece.pk}/").content.decode()  # a reload shows them as left
    assert 'value="macro_detail" checked' in page and 'value="3:4" checked' in page
    assert 'value="rose_gold" checked' in page and 'value="white_metal" checked' not in page


def test_a_style_kit_is_saved_once_replaced_by_name_and_refused_without_one(funded, other_user):
    kit = services.style_kit_save(owner=funded, name="  Summer   catalogue ", brief=services.brief_validate(KIT))
    assert kit.name == "Summer catalogue" and kit.brief == SAVED_KIT
    again = services.style_kit_save(
        owner=funded, name="Summer catalogue", brief=services.brief_validate({**KIT, "aspect_ratio": "1:1"})
    )
    assert again.pk == kit.pk and StyleKit.objects.get(pk=kit.pk).brief["aspect_ratio"] == "1:1"
    assert selectors.style_kit_named(owner=funded, name="summer catalogue") is None  # names are exact
    assert selectors.style_kit_named(owner=other_user, name="Summer catalogue") is None
    with pytest.raises(services.JewelleryRefused) as refused:
        services.style_kit_save(owner=funded, name="   ", brief=services.brief_validate(KIT))
    assert refused.value.code == "invalid_kit"


def test_a_batch_is_quoted_then_confirmed_once_and_starts_as_the_plan_allows(funded):
    pieces = confirmed_pieces(funded, 3)
    brief = services.brief_validate(KIT)
    quote = services.batch_quote(owner=funded, pieces=pieces, brief=brief)
    assert quote["images"] == 6 and quote["credits"] == 6 and [line["images"] for line in quote["pieces"]] == [2] * 3
    with pytest.raises(services.JewelleryRefused) as refused:
        services.batch_create(owner=funded, pieces=pieces, brief=brief, confirmed_credits=5)
    assert refused.value.code == "price_changed" and refused.value.status == 409
    assert not Batch.objects.exists() and not Generation.objects.exists()

    batch = services.batch_create(owner=funded, pieces=pieces, brief=brief, confirmed_credits=6, idempotency_key="k1")
    # The free plan runs two jobs at a time: two generations start, the third waits for a slot.
    assert Generation.objects.filter(batch=batch).count() == 2 and batch.pending == [pieces[2].pk]
    assert (
        services.batch_create(owner=funded, pieces=pieces, brief=brief, confirmed_credits=6, idempotency_key="k1")
        == batch
    )
    assert services.batch_advance(batch=batch) == 0  # still no slot; nothing started twice
    run_queued_jobs()
    assert services.batches_advance() == 1
    run_queued_jobs()
    rows = selectors.batch_progress(batch)
    assert [row["state"] for row in rows] == [JobState.SUCCEEDED] * 3
    assert [row["title"] for row in rows] == ["Ring 0", "Ring 1", "Ring 2"]
    assert credit_balance(user=funded) == 20 - 6
    params = Generation.objects.filter(batch=batch).first().job.params
    assert params["preset"] == "macro_detail" and params["metals"] == ["rose_gold", "white_metal"]


def test_a_batch_refuses_unconfirmed_pieces_by_name_and_a_short_balance_starts_nothing(funded):
    pieces = confirmed_pieces(funded, 1)
    raw = services.piece_create(owner=funded, uploads=[ring_upload()], title="Unchecked ring")
    with pytest.raises(services.JewelleryRefused) as refused:
        services.batch_quote(owner=funded, pieces=[*pieces, raw], brief=services.brief_validate(KIT))
    assert refused.value.code == "not_confirmed" and "Unchecked ring" in refused.value.message
    many = confirmed_pieces(funded, 2)
    big = services.brief_validate({**KIT, "variants": 4})  # 8 images a piece: 24 credits against 20
    with pytest.raises(services.JewelleryRefused) as refused:
        services.batch_create(owner=funded, pieces=[*pieces, *many], brief=big, confirmed_credits=24)
    assert refused.value.code == "insufficient_credits" and refused.value.status == 402
    assert not Batch.objects.exists() and credit_balance(user=funded) == 20


def test_a_piece_deleted_while_waiting_is_skipped_with_its_reason(funded):
    pieces = confirmed_pieces(funded, 3)
    batch = services.batch_create(owner=funded, pieces=pieces, brief=services.brief_validate(KIT), confirmed_credits=6)
    deleted = pieces[2].pk
    services.piece_delete(piece=pieces[2], actor=funded)
    run_queued_jobs()
    services.batch_advance(batch=batch)
    assert batch.pending == [] and "deleted" in batch.skipped[str(deleted)]
    assert selectors.batch_progress(batch)[2]["state"] == "skipped"


@pytest.mark.django_db(transaction=True)
def test_the_batch_command_runs_a_folder_through_a_kit_with_progress(funded, tmp_path, capsys):
    services.style_kit_save(owner=funded, name="Packshots", brief=services.brief_validate({"preset": "white_packshot"}))
    (tmp_path / "band").mkdir()
    (tmp_path / "band" / "front.jpg").write_bytes(ring_jpeg())
    (tmp_path / "band" / "side.jpg").write_bytes(ring_jpeg(angle_px=25))
    (tmp_path / "signet.jpg").write_bytes(ring_jpeg(stone=(20, 60, 190)))
    (tmp_path / "notes.txt").write_text("not an image")
    call_command("jewellery", "batch", str(tmp_path), "--kit", "Packshots", "--user", funded.email, "--yes")
    out = capsys.readouterr()
    assert "2 pieces, 2 images" in out.out and "Wrote 2 images" in out.out
    assert "Generating [##############################] 2/2" in out.err
    written = sorted(
        path.relative_to(tmp_path / "generated").parts[0] for path in (tmp_path / "generated").rglob("*.*")
    )
    assert written == ["band", "signet"]
    assert Piece.objects.get(title="band").references.count() == 2
    with pytest.raises(CommandError, match="No style kit named 'Lifestyle'. The account's kits: Packshots."):
        call_command("jewellery", "batch", str(tmp_path), "--kit", "Lifestyle", "--user", funded.email, "--yes")


def test_kits_batches_and_remembered_choices_are_exported_and_erased(funded):
    from intaglio.privacy import rights
    from tests.privacy.test_export import open_export, records, schema_errors

    pieces = confirmed_pieces(funded, 1)
    brief = services.brief_validate(KIT)
    services.piece_brief_save(piece=pieces[0], brief=brief)
    kit = services.style_kit_save(owner=funded, name="Autumn", brief=brief)
    batch = services.batch_create(owner=funded, pieces=pieces, brief=brief, confirmed_credits=2, kit_name=kit.name)
    _, manifest = open_export(rights.data_export(user=funded))
    assert schema_errors(manifest) == []
    assert [(k["name"], k["brief"]) for k in records(manifest, "jewellery_style_kits")] == [("Autumn", SAVED_KIT)]
    assert [(b["id"], b["kit_name"], b["credits"]) for b in records(manifest, "jewellery_batches")] == [
        (batch.pk, "Autumn", 2)
    ]
    assert records(manifest, "jewellery_pieces")[0]["brief"] == SAVED_KIT
    rights.account_close(user=funded)
    counts = rights.account_content_delete(user=funded)
    assert counts["jewellery_style_kits"] == 1 and counts["jewellery_batches"] == 1
    assert not StyleKit.objects.exists() and not Batch.objects.exists() and not Piece.objects.exists()


def test_the_pages_save_and_apply_a_kit_then_batch_with_one_confirmed_total(funded, client):
    first, second = confirmed_pieces(funded, 2)
    client.force_login(funded)
    form = {"preset": "macro_detail", "aspect_ratio": "4:5", "variants": "1", "metals": ["rose_gold", "white_metal"]}
    response = client.post(f"/jewellery/{first.pk}/kits/save/", {**form, "kit_name": "Site"}, follow=True)
    assert "Saved the style kit “Site”" in response.content.decode()
    kit = StyleKit.objects.get(owner=funded, name="Site")
    assert kit.brief == SAVED_KIT
    client.post(f"/jewellery/{second.pk}/kits/apply/", {"kit": kit.pk})
    second.refresh_from_db()
    assert second.brief == SAVED_KIT
    assert "Site" in client.get("/jewellery/kits/").content.decode()

    confirm = client.post("/jewellery/batch/confirm/", {"kit": kit.pk, "pieces": [first.pk, second.pk]})
    page = confirm.content.decode()
    assert confirm.status_code == 200 and 'id="batch-total"><strong>4</strong>' in page
    assert "Generate 4 images for 4 credits" in page
    key = page.split('name="idempotency_key" value="')[1].split('"')[0]
    start = {"kit": kit.pk, "pieces": [first.pk, second.pk], "credits": 4, "idempotency_key": key}
    response = client.post("/jewellery/batch/start/", start)
    batch = Batch.objects.get(owner=funded)
    assert response.status_code == 302 and response["Location"] == f"/jewellery/batches/{batch.pk}/"
    assert client.post("/jewellery/batch/start/", start)["Location"] == response["Location"]  # a double click
    assert Generation.objects.filter(batch=batch).count() == 2 and credit_balance(user=funded) == 20 - 4
    progress = client.get(response["Location"]).content.decode()
    assert "0 of 2 finished" in progress and 'hx-trigger="every 3s"' in progress
    run_queued_jobs()
    assert "2 of 2 finished" in client.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()

    stale = client.post("/jewellery/batch/start/", {**start, "idempotency_key": "another", "credits": 3})
    assert stale.status_code == 409 and "not the 3 you confirmed" in stale.content.decode()
    no_kit = client.post("/jewellery/batch/confirm/", {"pieces": [first.pk]})
    assert no_kit.status_code == 422 and "Choose a style kit" in no_kit.content.decode()


def test_the_api_saves_kits_quotes_and_starts_a_batch_once(funded, client):
    from tests.factories import make_token

    auth = {"HTTP_AUTHORIZATION": f"Bearer {make_token(funded)}"}
    first, second = confirmed_pieces(funded, 2)
    saved = client.post(
        "/api/v1/jewellery/kits", {"name": "Site", "brief": KIT}, content_type="application/json", **auth
    )
    assert saved.status_code == 201 and saved.json()["brief"] == SAVED_KIT
    kit_id = saved.json()["id"]
    assert [kit["name"] for kit in client.get("/api/v1/jewellery/kits", **auth).json()["items"]] == ["Site"]
    body = {"kit_id": kit_id, "piece_ids": [first.pk, second.pk]}
    quote = client.post("/api/v1/jewellery/batches/quote", body, content_type="application/json", **auth).json()
    assert (quote["images"], quote["credits"], quote["balance"]) == (4, 4, 20)

    def start(credits, key):
        return client.post(
            "/api/v1/jewellery/batches", {**body, "credits": credits}, content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=key, **auth,
        )  # fmt: skip

    stale = start(3, "a")
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "price_changed"
    created = start(4, "b")
    assert created.status_code == 201 and start(4, "b").json()["id"] == created.json()["id"]
    assert [row["state"] for row in created.json()["pieces"]] == [JobState.QUEUED] * 2
    assert credit_balance(user=funded) == 16
    run_queued_jobs()
    batch = client.get(f"/api/v1/jewellery/batches/{created.json()['id']}", **auth).json()
    assert [row["state"] for row in batch["pieces"]] == [JobState.SUCCEEDED] * 2 and batch["kit_name"] == "Site"
    assert client.get(f"/api/v1/jewellery/pieces/{first.pk}", **auth).json()["brief"] is None
    assert client.delete(f"/api/v1/jewellery/kits/{kit_id}", **auth).status_code == 204


def test_angle_and_shadow_are_kit_choices_and_another_angle_needs_an_image_service(funded, settings):
    (piece,) = confirmed_pieces(funded, 1)
    shadowless = services.brief_validate({**KIT, "metals": [], "shadow": "none"})
    (image,) = services.generation_plan(piece=piece, brief=shadowless)["images"]
    assert "No shadow and no reflection" in image["prompt"] and "soft contact shadow" not in image["prompt"]
    kit = services.style_kit_save(owner=funded, name="Flat", brief=shadowless)
    assert services.style_kit_brief(kit).shadow == "none"

    turned = services.brief_validate({**KIT, "angle": "three_quarter"})
    with pytest.raises(services.JewelleryRefused) as refused:  # the local renderer shows the references' own view
        services.generation_create(piece=piece, brief=turned)
    assert refused.value.code == "angle_unavailable" and credit_balance(user=funded) == 20
    assert not Generation.objects.exists()

    settings.JEWELLERY_GENERATION_PROVIDER = "wavespeed"  # an image service shows the piece from the angle asked
    settings.WAVESPEED_API_KEY = "ws-test-key"
    plan = services.generation_plan(piece=piece, brief=turned)
    assert all("three-quarter view" in image["prompt"] for image in plan["images"])
    assert plan["angle"] == "three_quarter" and plan["shadow"] == "soft"


def test_the_local_renderer_makes_the_shadowless_packshot_asked_for(funded):
    (piece,) = confirmed_pieces(funded, 1)
    generation = services.generation_create(
        piece=piece, brief=services.brief_validate({"preset": "white_packshot", "shadow": "none"})
    )
    run_queued_jobs()
    generation.job.refresh_from_db()
    assert generation.job.state == JobState.SUCCEEDED and generation.job.params["shadow"] == "none"
    from intaglio.jewellery.jobs import _request
    from intaglio.jewellery.params import GenerateParams

    assert _request(GenerateParams(**generation.job.params), 0, ()).shadow is False  # what the renderer is asked
