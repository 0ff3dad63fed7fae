"""The WaveSpeed generation adapter against a local server that enforces the documented v3 API (J8, J12, J15): the
payload allow-list, signed links the provider really fetches, a submit that is never repeated, bounded retries of
reads, validated results and downloads, and webhook verification."""

from __future__ import annotations

import json
import time

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured

from intaglio.core.egress import EgressRefused
from intaglio.providers import registry, wavespeed
from intaglio.providers.base import (
    GenerationRequest,
    Prediction,
    ProviderError,
    ProviderRefused,
    ProviderUnavailable,
    ReferenceImage,
    SubmitUncertain,
    WebhookRejected,
)
from intaglio.providers.wavespeed import UNCERTAIN, UNREADABLE, WaveSpeedGeneration, parse_prediction, size_for
from tests.fakes import ImageHost, Receiver, tiny_png
from tests.fakes.wavespeed import FakeWaveSpeed

PNG = tiny_png((180, 180, 190))
MODEL = "bytedance/seedream-v4/edit"


@pytest.fixture
def image_host():
    with ImageHost() as host:
        yield host


@pytest.fixture
def receiver():
    with Receiver() as server:
        yield server


@pytest.fixture
def fake(settings, image_host, receiver):
    with FakeWaveSpeed() as server:
        settings.WAVESPEED_BASE_URL = server.url
        settings.WAVESPEED_API_KEY = server.api_key
        settings.WAVESPEED_MODEL = MODEL
        settings.WAVESPEED_WEBHOOK_SECRET = server.webhook_secret
        settings.WAVESPEED_TIMEOUT_SECONDS = 5
        settings.SUBPROCESSORS = [server.subprocessor(), image_host.subprocessor()]
        yield server


@pytest.fixture
def sleeps(monkeypatch):
    """Backoff pauses, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(wavespeed, "backoff_sleep", recorded.append)
    return recorded


def generation(image_host, count: int = 2, **overrides) -> GenerationRequest:
    references = tuple(ReferenceImage(data=PNG, mime="image/png", url=image_host.add(PNG)) for _ in range(count))
    fields = {
        "prompt": "A yellow gold solitaire ring on white, soft studio light",
        "references": references,
        "aspect_ratio": "1:1",
        "seed": 1234,
        "preset": "packshot",
        "metal": "yellow_gold",
    }
    return GenerationRequest(**{**fields, **overrides})


def assert_user_safe(exc: ProviderError, fake: FakeWaveSpeed) -> None:
    message = str(exc)
    assert message and message[0].isupper()
    assert fake.api_key not in message and "127.0.0.1" not in message and "Traceback" not in message


# --- the happy path ---------------------------------------------------------------------------------------------


def test_J8_submit_poll_download_with_the_payload_allow_list(fake, image_host, receiver, sleeps):
    request = generation(image_host, count=2)
    provider = WaveSpeedGeneration()
    webhook = f"{receiver.url}/webhooks/wavespeed?job=7&step=generate"

    prediction_id = provider.submit(request, webhook_url=webhook)

    (submit,) = fake.submissions
    assert submit.path == f"/api/v3/{MODEL}"
    assert submit.headers["authorization"] == f"Bearer {fake.api_key}"
    assert submit.query == {"webhook": [webhook]}  # one parameter: the webhook link was URL-encoded
    # J8: exactly the allowed keys; the references as the signed links, which the provider really fetched.
    assert list(submit.json) == ["prompt", "images", "size", "seed"]
    assert submit.json == {
        "prompt": request.prompt,
        "images": [reference.url for reference in request.references],
        "size": "2048*2048",
        "seed": 1234,
    }
    assert fake.fetched == [(reference.url, 200) for reference in request.references]
    assert b"@" not in submit.body and b"yellow_gold" not in submit.body  # no e-mail; the preset fields stay here
    assert prediction_id in fake.prediction_ids

    first = provider.result(prediction_id)
    assert first == Prediction(id=prediction_id, status="processing", outputs=[], error="")
    assert not first.finished
    done = provider.result(prediction_id)
    assert done.status == "completed" and done.finished
    assert done.outputs == [f"{fake.origin}/outputs/{prediction_id}-0.png"]
    assert sleeps == []

    data, mime = provider.download(done.outputs[0])
    assert (data, mime) == (fake._default_output, "image/png")
    # The output host gets no API key (a CDN is not the API).
    assert "authorization" not in fake.requests[-1].headers


def test_J8_the_payload_refuses_references_without_a_signed_link_before_sending(fake, image_host):
    request = generation(image_host, count=1)
    unsigned = GenerationRequest(
        prompt=request.prompt,
        references=(*request.references, ReferenceImage(data=PNG, mime="image/png", url=None)),
        aspect_ratio="1:1",
        seed=1,
        preset="packshot",
    )
    with pytest.raises(ProviderRefused, match="short-lived links"):
        WaveSpeedGeneration().submit(unsigned, webhook_url=None)
    assert fake.requests == []


def test_J8_the_payload_is_only_prompt_images_size_and_seed(image_host, settings):
    settings.WAVESPEED_MODEL = MODEL
    body = WaveSpeedGeneration().payload(generation(image_host, count=3, aspect_ratio="4:5", seed=2**40 + 5))
    assert list(body) == ["prompt", "images", "size", "seed"]
    assert body["size"] == "1856*2320"
    assert 0 <= body["seed"] <= 2**31 - 1
    assert len(body["images"]) == 3 and all(url.startswith("http://127.0.0.1:") for url in body["images"])


@pytest.mark.parametrize("ratio", ["1:1", "4:5", "3:4", "2:3", "16:9", "9:16", "5:7"])
def test_sizes_keep_the_ratio_within_the_models_range(ratio):
    width, height = (int(side) for side in size_for(ratio, MODEL).split("*"))
    a, b = (int(part) for part in ratio.split(":"))
    assert 1024 <= width <= 4096 and 1024 <= height <= 4096
    assert abs(width / height - a / b) < 0.01
    assert 3.5e6 <= width * height <= 4.5e6


def test_an_impossible_aspect_ratio_or_too_many_references_are_refused(image_host, settings):
    settings.WAVESPEED_MODEL = MODEL
    with pytest.raises(ProviderRefused, match="aspect ratio"):
        WaveSpeedGeneration().payload(generation(image_host, count=1, aspect_ratio="square"))
    with pytest.raises(ProviderRefused, match="outside"):
        WaveSpeedGeneration().payload(generation(image_host, count=1, aspect_ratio="1:9"))
    with pytest.raises(ProviderRefused, match="at most 10"):
        WaveSpeedGeneration().payload(generation(image_host, count=11))


def test_J8_an_expired_signed_link_fails_the_submit_as_refused(fake, image_host):
    request = generation(image_host, count=1)
    image_host.expire(request.references[0].url)
    with pytest.raises(ProviderRefused, match=r"rejected the request \(HTTP 400\)") as caught:
        WaveSpeedGeneration().submit(request, webhook_url=None)
    assert not isinstance(caught.value, SubmitUncertain)
    assert fake.prediction_ids == []


# --- the fake enforces the contract -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda body: body.update(user_id=7), "personal data field 'user_id'"),
        (lambda body: body.update(enable_base64_output=True), "unknown top-level key 'enable_base64_output'"),
        (lambda body: body.update(prompt="ring for ann@example.com"), "e-mail"),
        (lambda body: body.update(images=[]), "images must be a list of 1 to 10"),
        (lambda body: body.update(size="512*512"), "each side between 1024 and 4096"),
        (lambda body: body.update(seed="42"), "seed must be an integer"),
        (lambda body: body.pop("prompt"), "prompt is required"),
    ],
)
def test_the_fake_refuses_what_the_contract_forbids(fake, image_host, change, problem):
    body = WaveSpeedGeneration().payload(generation(image_host, count=1))
    change(body)
    headers = {"Authorization": f"Bearer {fake.api_key}"}
    response = requests.post(f"{fake.url}/api/v3/{MODEL}", json=body, headers=headers, timeout=5)
    assert response.status_code == 400 and response.json()["code"] == 400
    assert problem in response.json()["message"]


def test_the_fake_answers_wrong_keys_paths_and_methods_in_wavespeeds_error_shape(fake):
    assert requests.post(f"{fake.url}/api/v3/{MODEL}", json={}, timeout=5).status_code == 401
    unknown = requests.post(f"{fake.url}/api/v3/acme/paint", json={}, timeout=5)
    assert unknown.status_code == 404 and unknown.json() == {
        "code": 404,
        "message": "Model not found: acme/paint",
        "data": None,
    }
    assert requests.get(f"{fake.url}/api/v3/{MODEL}", timeout=5).status_code == 405
    assert requests.get(f"{fake.url}/api/v2/predictions", timeout=5).status_code == 404


# --- submit: never repeated -------------------------------------------------------------------------------------


def test_J8_a_submit_timeout_is_uncertain_and_never_repeated(fake, image_host, settings, sleeps):
    settings.WAVESPEED_TIMEOUT_SECONDS = 1
    fake.inject("submit_timeout", times=1)
    with pytest.raises(SubmitUncertain) as caught:
        WaveSpeedGeneration().submit(generation(image_host), webhook_url=None)
    assert str(caught.value) == UNCERTAIN
    assert not caught.value.transient
    assert len(fake.submissions) == 1 and sleeps == []
    assert len(fake.prediction_ids) == 1  # the task exists though we never learnt its id: why it is not resent


def test_a_submit_5xx_is_uncertain(fake, image_host):
    fake.inject("submit_5xx")
    with pytest.raises(SubmitUncertain):
        WaveSpeedGeneration().submit(generation(image_host), webhook_url=None)
    assert len(fake.submissions) == 1


def test_a_submit_429_was_not_accepted_so_it_is_only_unavailable(fake, image_host):
    fake.retry_after = 9
    fake.inject("submit_429")
    with pytest.raises(ProviderUnavailable) as caught:
        WaveSpeedGeneration().submit(generation(image_host), webhook_url=None)
    assert not isinstance(caught.value, SubmitUncertain) and caught.value.transient
    assert caught.value.retry_after == 9.0
    assert len(fake.submissions) == 1 and fake.prediction_ids == []


def test_the_concurrency_limit_answers_429(fake, image_host):
    fake.max_concurrent = 1
    provider = WaveSpeedGeneration()
    first = provider.submit(generation(image_host, count=1), webhook_url=None)
    with pytest.raises(ProviderUnavailable, match="limit of running tasks"):
        provider.submit(generation(image_host, count=1), webhook_url=None)
    fake.complete(first)
    assert provider.submit(generation(image_host, count=1), webhook_url=None)


def test_a_wrong_key_or_model_is_refused_not_uncertain(fake, image_host, settings):
    settings.WAVESPEED_API_KEY = "ws-wrong"
    with pytest.raises(ProviderRefused, match=r"credentials \(HTTP 401\)") as caught:
        WaveSpeedGeneration().submit(generation(image_host), webhook_url=None)
    assert not isinstance(caught.value, SubmitUncertain) and "ws-wrong" not in str(caught.value)
    settings.WAVESPEED_API_KEY = fake.api_key
    settings.WAVESPEED_MODEL = "acme/paint"
    with pytest.raises(ProviderRefused, match=r"not available \(HTTP 404\)"):
        WaveSpeedGeneration().submit(generation(image_host), webhook_url=None)


# --- result: retried reads, validated shapes --------------------------------------------------------------------


def submitted(fake, image_host, **kwargs) -> str:
    return WaveSpeedGeneration().submit(generation(image_host, count=1), webhook_url=kwargs.get("webhook_url"))


def test_reads_retry_5xx_with_exponential_backoff(fake, image_host, sleeps):
    fake.steps = 0
    prediction_id = submitted(fake, image_host)
    fake.inject("read_5xx", times=2)
    prediction = WaveSpeedGeneration().result(prediction_id)
    assert prediction.status == "completed"
    assert sleeps == [1.0, 2.0]
    assert len(fake.result_reads) == 3


def test_reads_honour_retry_after_on_429(fake, image_host, sleeps):
    fake.steps = 0
    prediction_id = submitted(fake, image_host)
    fake.retry_after = 3
    fake.inject("read_429", times=2)
    assert WaveSpeedGeneration().result(prediction_id).status == "completed"
    assert sleeps == [3.0, 3.0]


def test_reads_give_up_unavailable_after_a_few_tries(fake, image_host, sleeps):
    prediction_id = submitted(fake, image_host)
    fake.inject("read_5xx")
    with pytest.raises(ProviderUnavailable) as caught:
        WaveSpeedGeneration().result(prediction_id)
    assert len(fake.result_reads) == 4 and sleeps == [1.0, 2.0, 4.0]
    assert caught.value.retry_after == 8.0
    assert_user_safe(caught.value, fake)


def test_the_total_wait_is_bounded_by_retry_after(fake, image_host, sleeps):
    prediction_id = submitted(fake, image_host)
    fake.retry_after = 120
    fake.inject("read_429")
    with pytest.raises(ProviderUnavailable) as caught:
        WaveSpeedGeneration().result(prediction_id)
    assert sleeps == [] and len(fake.result_reads) == 1  # no 2-minute nap inside a worker
    assert caught.value.retry_after == 120.0


def test_a_read_timeout_is_retried(fake, image_host, settings, sleeps):
    fake.steps = 0
    prediction_id = submitted(fake, image_host)
    settings.WAVESPEED_TIMEOUT_SECONDS = 1
    fake.inject("read_timeout", times=1)
    assert WaveSpeedGeneration().result(prediction_id).status == "completed"
    assert sleeps == [1.0]


def test_a_non_json_read_is_retried_then_unavailable(fake, image_host, sleeps):
    fake.steps = 0
    prediction_id = submitted(fake, image_host)
    fake.inject("malformed_json", times=1)
    assert WaveSpeedGeneration().result(prediction_id).status == "completed"
    fake.inject("malformed_json")
    with pytest.raises(ProviderUnavailable):
        WaveSpeedGeneration().result(prediction_id)


def test_a_read_of_the_wrong_shape_is_refused(fake, image_host, sleeps):
    prediction_id = submitted(fake, image_host)
    fake.inject("schema_violation", times=1)
    with pytest.raises(ProviderRefused, match=UNREADABLE):
        WaveSpeedGeneration().result(prediction_id)
    assert sleeps == []


def test_a_failed_prediction_is_a_result_not_an_error(fake, image_host, sleeps):
    fake.steps = 0
    fake.inject("prediction_failed", times=1)
    prediction_id = submitted(fake, image_host)
    prediction = WaveSpeedGeneration().result(prediction_id)
    assert prediction.status == "failed" and prediction.finished
    assert prediction.outputs == [] and "could not be processed" in prediction.error


def test_a_stuck_prediction_stays_processing(fake, image_host, sleeps):
    fake.steps = 0
    fake.inject("stuck", times=1)
    prediction_id = submitted(fake, image_host)
    provider = WaveSpeedGeneration()
    assert [provider.result(prediction_id).status for _ in range(4)] == ["processing"] * 4


def test_an_unknown_prediction_is_refused(fake, sleeps):
    with pytest.raises(ProviderRefused, match="no longer knows"):
        WaveSpeedGeneration().result("does-not-exist")
    with pytest.raises(ProviderRefused):
        WaveSpeedGeneration().result("")


def test_unknown_statuses_and_bad_shapes_are_refused(settings):
    provider = WaveSpeedGeneration(api_key="k")
    reply = {"code": 200, "message": "success", "data": {"id": "p1", "status": "exploded", "outputs": []}}
    with pytest.raises(ProviderRefused, match=UNREADABLE):
        provider._read_result("p1", 200, json.dumps(reply).encode())
    reply["data"]["status"] = "completed"  # completed without outputs
    with pytest.raises(ProviderRefused):
        provider._read_result("p1", 200, json.dumps(reply).encode())
    reply["data"].update(outputs=["https://cdn.example/p1.png"], id="p2")  # another task's answer
    with pytest.raises(ProviderRefused):
        provider._read_result("p1", 200, json.dumps(reply).encode())
    for status in ("created", "processing", "completed", "failed", "cancelled", "timeout"):
        assert parse_prediction({"id": "x", "status": status, "outputs": ["https://a/b.png"]}).status == status
    with pytest.raises(ValueError, match="unknown prediction status"):
        parse_prediction({"id": "x", "status": "deleted"})


# --- download ---------------------------------------------------------------------------------------------------


@pytest.fixture
def output_url(fake, image_host):
    prediction_id = submitted(fake, image_host)
    return fake.complete(prediction_id)["outputs"][0]


def test_download_refuses_what_is_not_an_image(fake, output_url):
    fake.output_content_type = "text/html"
    with pytest.raises(ProviderRefused, match="not a PNG, JPEG or WebP"):
        WaveSpeedGeneration().download(output_url)
    fake.output_content_type = "image/png"
    fake.output_body = b"\x89PNG\r\n\x1a\n but not really"
    with pytest.raises(ProviderRefused, match="could not read"):
        WaveSpeedGeneration().download(output_url)


def test_download_is_size_capped(fake, output_url):
    with pytest.raises(ProviderRefused, match="larger than we accept"):
        WaveSpeedGeneration(max_download_bytes=len(fake._default_output) - 1).download(output_url)
    assert WaveSpeedGeneration().download(output_url)[1] == "image/png"


def test_download_of_a_missing_output_is_refused(fake):
    with pytest.raises(ProviderRefused, match=r"HTTP 404"):
        WaveSpeedGeneration().download(f"{fake.origin}/outputs/nothing-0.png")


def test_J12_download_from_an_unregistered_host_is_refused(fake, output_url):
    with pytest.raises(EgressRefused):
        WaveSpeedGeneration().download(output_url.replace("127.0.0.1", "localhost"))
    with pytest.raises(ProviderRefused):
        WaveSpeedGeneration().download("ftp://cdn.example/a.png")


# --- webhooks ---------------------------------------------------------------------------------------------------


def delivered(receiver, index: int = -1):
    request = receiver.requests[index]
    return request.headers, request.body


def test_J8_a_webhook_delivery_verifies_and_gives_the_prediction(fake, image_host, receiver):
    prediction_id = submitted(fake, image_host, webhook_url=f"{receiver.url}/hooks/wavespeed")
    fake.complete(prediction_id)
    (request,) = receiver.requests
    assert request.path == "/hooks/wavespeed" and request.method == "POST"
    assert request.headers["webhook-signature"].startswith("v3,")
    assert request.json["id"] == prediction_id and request.json["status"] == "completed"  # the flat object

    delivery_id, prediction = WaveSpeedGeneration().parse_webhook(request.headers, request.body)

    assert delivery_id == request.headers["webhook-id"]
    assert prediction == Prediction(prediction_id, "completed", [f"{fake.origin}/outputs/{prediction_id}-0.png"], "")


def test_webhook_headers_are_read_case_insensitively(fake):
    body = json.dumps({"id": "p1", "status": "failed", "error": "NSFW content detected"}).encode()
    headers = {name.title(): value for name, value in fake.signed_headers(body).items()}
    assert "Webhook-Signature" in headers
    _, prediction = WaveSpeedGeneration().parse_webhook(headers, body)
    assert (prediction.status, prediction.error) == ("failed", "NSFW content detected")
    meta = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in fake.signed_headers(body).items()}
    assert WaveSpeedGeneration().parse_webhook(meta, body)[1] == prediction  # request.META spelling


def test_a_forged_webhook_is_rejected(fake, image_host, receiver):
    fake.inject("forged_webhook", times=1)
    prediction_id = submitted(fake, image_host, webhook_url=receiver.url)
    fake.complete(prediction_id)
    with pytest.raises(WebhookRejected, match="signature does not match"):
        WaveSpeedGeneration().parse_webhook(*delivered(receiver))


def test_a_tampered_webhook_body_is_rejected(fake, image_host, receiver):
    prediction_id = submitted(fake, image_host, webhook_url=receiver.url)
    fake.complete(prediction_id)
    headers, body = delivered(receiver)
    tampered = body.replace(b'"completed"', b'"failed"')
    assert tampered != body
    with pytest.raises(WebhookRejected, match="signature"):
        WaveSpeedGeneration().parse_webhook(headers, tampered)


def test_a_stale_webhook_is_rejected(fake, image_host, receiver):
    fake.inject("stale_webhook", times=1)
    prediction_id = submitted(fake, image_host, webhook_url=receiver.url)
    fake.complete(prediction_id)
    with pytest.raises(WebhookRejected, match="5-minute window"):
        WaveSpeedGeneration().parse_webhook(*delivered(receiver))


def test_the_webhook_window_is_300_seconds_either_way(fake):
    now = 1_760_000_000
    body = json.dumps({"id": "p1", "status": "processing"}).encode()
    provider = WaveSpeedGeneration(clock=lambda: now)
    for offset in (-300, 0, 300):
        assert provider.parse_webhook(fake.signed_headers(body, timestamp=now + offset), body)[1].id == "p1"
    for offset in (-301, 301, -3600):
        with pytest.raises(WebhookRejected, match="window"):
            provider.parse_webhook(fake.signed_headers(body, timestamp=now + offset), body)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_webhook_without_its_headers_is_rejected(fake, missing):
    body = json.dumps({"id": "p1", "status": "completed", "outputs": ["https://cdn.example/p1.png"]}).encode()
    headers = fake.signed_headers(body)
    del headers[missing]
    with pytest.raises(WebhookRejected, match="header is missing"):
        WaveSpeedGeneration().parse_webhook(headers, body)


def test_the_secret_works_with_and_without_its_prefix_and_is_required(fake, settings):
    body = json.dumps({"id": "p1", "status": "processing"}).encode()
    headers = fake.signed_headers(body)
    bare = fake.webhook_secret.removeprefix("whsec_")
    for secret in (fake.webhook_secret, bare):
        settings.WAVESPEED_WEBHOOK_SECRET = secret
        assert WaveSpeedGeneration().parse_webhook(headers, body)[0] == headers["webhook-id"]
    # The prefix is not part of the key: a signature made with it does not verify.
    with_prefix = fake.signed_headers(body, secret="whsec_whsec_" + bare)
    with pytest.raises(WebhookRejected, match="signature"):
        WaveSpeedGeneration().parse_webhook(with_prefix, body)
    settings.WAVESPEED_WEBHOOK_SECRET = ""
    with pytest.raises(WebhookRejected, match="not configured"):
        WaveSpeedGeneration().parse_webhook(headers, body)


def test_a_webhook_body_that_is_not_a_flat_prediction_is_rejected(fake):
    for payload in (
        {"code": 200, "message": "success", "data": {"id": "p1", "status": "completed"}},  # the API envelope
        {"id": "p1", "status": "exploded"},
        {"id": "", "status": "completed"},
        ["p1", "completed"],
    ):
        body = json.dumps(payload).encode()
        with pytest.raises(WebhookRejected, match="not a prediction"):
            WaveSpeedGeneration().parse_webhook(fake.signed_headers(body), body)
    with pytest.raises(WebhookRejected, match="not JSON"):
        WaveSpeedGeneration().parse_webhook(fake.signed_headers(b"id=p1"), b"id=p1")


def test_a_duplicate_delivery_has_the_same_delivery_id(fake, image_host, receiver):
    fake.inject("duplicate_webhook", times=1)
    prediction_id = submitted(fake, image_host, webhook_url=receiver.url)
    fake.complete(prediction_id)
    assert len(receiver.requests) == 2
    provider = WaveSpeedGeneration()
    first = provider.parse_webhook(*delivered(receiver, 0))
    second = provider.parse_webhook(*delivered(receiver, 1))
    assert first == second and first[0] == receiver.requests[0].headers["webhook-id"]


def test_a_late_webhook_arrives_when_released(fake, image_host, receiver):
    fake.inject("late_webhook", times=1)
    prediction_id = submitted(fake, image_host, webhook_url=receiver.url)
    fake.complete(prediction_id)
    assert receiver.requests == [] and len(fake.pending_webhooks) == 1
    (delivery,) = fake.deliver_webhooks()
    assert delivery.status == 200
    assert WaveSpeedGeneration().parse_webhook(*delivered(receiver))[1].status == "completed"


def test_without_a_webhook_polling_finds_the_result(fake, image_host, receiver, sleeps):
    fake.inject("no_webhook", times=1)
    prediction_id = submitted(fake, image_host, webhook_url=receiver.url)
    provider = WaveSpeedGeneration()
    assert [provider.result(prediction_id).status for _ in range(2)] == ["processing", "completed"]
    time.sleep(0.1)
    assert receiver.requests == [] and fake.deliveries == []


def test_a_prediction_finishing_on_a_read_delivers_its_webhook_too(fake, image_host, receiver, sleeps):
    fake.steps = 0
    fake.inject("prediction_failed", times=1)
    prediction_id = submitted(fake, image_host, webhook_url=receiver.url)
    assert WaveSpeedGeneration().result(prediction_id).status == "failed"
    (delivery,) = fake.wait_for_deliveries(1)
    assert delivery.status == 200
    _, prediction = WaveSpeedGeneration().parse_webhook(*delivered(receiver))
    assert prediction.status == "failed" and prediction.error


# --- egress and configuration -----------------------------------------------------------------------------------


def test_J12_an_unregistered_host_is_refused_before_connecting(fake, image_host, settings):
    settings.SUBPROCESSORS = [image_host.subprocessor()]
    with pytest.raises(EgressRefused, match="not a registered sub-processor host"):
        WaveSpeedGeneration().submit(generation(image_host), webhook_url=None)
    with pytest.raises(EgressRefused):
        WaveSpeedGeneration().result("abc")
    assert fake.requests == []


def test_registry_gives_the_configured_generation_provider(settings):
    settings.JEWELLERY_GENERATION_PROVIDER = "wavespeed"
    settings.WAVESPEED_API_KEY = "ws-test"
    provider = registry.generation_provider()
    assert isinstance(provider, WaveSpeedGeneration)
    assert (provider.name, provider.asynchronous, provider.model) == ("wavespeed", True, settings.WAVESPEED_MODEL)


def test_registry_refuses_an_unknown_generation_provider_or_a_missing_key(settings):
    settings.JEWELLERY_GENERATION_PROVIDER = "midjourney"
    with pytest.raises(ImproperlyConfigured, match="Unknown generation provider 'midjourney'.*local, wavespeed"):
        registry.generation_provider()
    settings.JEWELLERY_GENERATION_PROVIDER = "wavespeed"
    settings.WAVESPEED_API_KEY = ""
    with pytest.raises(ImproperlyConfigured, match="WAVESPEED_API_KEY"):
        registry.generation_provider()


def test_registry_gives_the_local_generator_by_name():
    from intaglio.providers import local

    assert isinstance(registry.generation_provider_named("local"), local.LocalGeneration)
