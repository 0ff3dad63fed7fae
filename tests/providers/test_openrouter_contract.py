"""The OpenRouter analysis adapter against a local server that enforces the documented API (J9, J12, J15): the request
shape and its opt-outs, every failure mapped to the right error with a user-safe message, egress, and the registry."""

from __future__ import annotations

import base64
import json

import jsonschema
import pytest
import requests
from django.core.exceptions import ImproperlyConfigured

from intaglio.core.egress import EgressRefused
from intaglio.imaging.jewellery import vocabulary
from intaglio.providers import registry
from intaglio.providers.attributes import Attributes
from intaglio.providers.base import ProviderError, ProviderRefused, ProviderUnavailable, ReferenceImage
from intaglio.providers.openrouter import SCHEMA_NAME, UNREADABLE, OpenRouterAnalysis, attributes_json_schema
from tests.fakes import ImageHost, tiny_png
from tests.fakes.openrouter import FakeOpenRouter, default_attributes, strict_schema_problems

PNG = tiny_png((200, 160, 40))
JPEG_BYTES = b"\xff\xd8\xff\xe0fake-jpeg-bytes"


def image(url: str | None = None, data: bytes = PNG, mime: str = "image/png") -> ReferenceImage:
    return ReferenceImage(data=data, mime=mime, url=url)


@pytest.fixture
def fake(settings):
    with FakeOpenRouter() as server:
        settings.OPENROUTER_BASE_URL = server.url
        settings.OPENROUTER_API_KEY = server.api_key
        settings.OPENROUTER_MODEL = "google/gemini-2.5-flash"
        settings.OPENROUTER_ZERO_RETENTION = True
        settings.OPENROUTER_IMAGE_TRANSPORT = "data_url"
        settings.OPENROUTER_TIMEOUT_SECONDS = 5
        settings.SUBPROCESSORS = [server.subprocessor()]
        yield server


@pytest.fixture
def image_host(settings, fake):
    with ImageHost() as host:
        settings.SUBPROCESSORS = [fake.subprocessor(), host.subprocessor()]
        yield host


def assert_user_safe(exc: ProviderError, fake: FakeOpenRouter) -> None:
    message = str(exc)
    assert message and message[0].isupper() and message.endswith((".", ")"))
    assert fake.api_key not in message and "127.0.0.1" not in message and "Traceback" not in message


# --- the request ------------------------------------------------------------------------------------------------


def test_J9_J15_analysis_request_has_the_documented_shape_and_the_opt_outs(fake):
    result = OpenRouterAnalysis().analyse([image(), image(None, JPEG_BYTES, "image/jpeg")])

    assert result == Attributes.model_validate(default_attributes(2)).model_dump()
    assert [shot["value"] for shot in result["shots"]] == ["packshot", "cad_render"]
    (request,) = fake.completions
    body = request.json
    assert request.headers["authorization"] == f"Bearer {fake.api_key}"
    assert set(body) == {"model", "messages", "response_format", "provider", "temperature"}
    assert body["model"] == "google/gemini-2.5-flash"
    assert body["temperature"] == 0
    # J9/J15: no provider that collects data, none that ignores the schema, zero retention.
    assert body["provider"] == {"require_parameters": True, "data_collection": "deny", "zdr": True}
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"] == {
        "name": SCHEMA_NAME,
        "strict": True,
        "schema": attributes_json_schema(),
    }
    system, user = body["messages"]
    assert system["role"] == "system" and "unknown" in system["content"] and "low confidence" in system["content"]
    assert user["role"] == "user"
    text, first, second = user["content"]
    assert text["type"] == "text" and "2 reference images" in text["text"]
    assert first["image_url"]["url"] == "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert second["image_url"]["url"].startswith("data:image/jpeg;base64,")
    assert base64.b64decode(second["image_url"]["url"].split(",", 1)[1]) == JPEG_BYTES
    # Nothing about the user: no user field, no e-mail, no address.
    assert "user" not in body and b"@" not in request.body


def test_J15_zero_retention_is_asked_only_when_configured(fake, settings):
    settings.OPENROUTER_ZERO_RETENTION = False
    OpenRouterAnalysis().analyse([image()])
    assert fake.completions[-1].json["provider"] == {"require_parameters": True, "data_collection": "deny"}


def test_J8_signed_links_are_sent_when_configured_and_the_provider_can_fetch_them(fake, image_host, settings):
    settings.OPENROUTER_IMAGE_TRANSPORT = "signed_url"
    fake.fetch_images = True
    first, second = image_host.add(PNG), image_host.add(PNG)

    result = OpenRouterAnalysis().analyse([image(first), image(second), image(None)])

    assert len(result["shots"]) == 3
    urls = [part["image_url"]["url"] for part in fake.completions[-1].json["messages"][1]["content"][1:]]
    assert urls[:2] == [first, second]
    assert urls[2].startswith("data:image/png;base64,")  # no link for this one: the bytes go inline
    assert fake.fetched == [(first, 200), (second, 200)]


def test_J8_an_expired_signed_link_is_refused_by_the_provider(fake, image_host, settings):
    settings.OPENROUTER_IMAGE_TRANSPORT = "signed_url"
    fake.fetch_images = True
    link = image_host.add(PNG)
    image_host.expire(link)
    with pytest.raises(ProviderRefused, match=r"rejected the request \(HTTP 400\)") as caught:
        OpenRouterAnalysis().analyse([image(link)])
    assert fake.fetched == [(link, 403)]
    assert_user_safe(caught.value, fake)


def test_J9_the_schema_is_strict_mode_compatible_and_matches_the_attributes_model():
    schema = attributes_json_schema()
    assert strict_schema_problems(schema, "schema") == []
    text = json.dumps(schema)
    assert "$ref" not in text and "$defs" not in text and '"title"' not in text

    def objects(node):
        if isinstance(node, dict):
            if node.get("type") == "object":
                yield node
            for value in node.values():
                yield from objects(value)
        elif isinstance(node, list):
            for value in node:
                yield from objects(value)

    found = list(objects(schema))
    assert len(found) == 6  # Attributes, and TypeGuess, MetalGuess, StoneGroup, FinishGuess, ShotGuess inlined
    for node in found:
        assert node["additionalProperties"] is False
        assert node["required"] == list(node["properties"])
    assert schema["properties"]["type"]["properties"]["value"]["enum"] == [*vocabulary.PIECE_TYPES, vocabulary.UNKNOWN]
    assert schema["properties"]["shots"]["items"]["properties"]["value"]["enum"] == [
        *vocabulary.SHOT_TYPES,
        vocabulary.UNKNOWN,
    ]
    assert schema["properties"]["shots"]["maxItems"] == 10
    # What validates against the schema validates against the model, and the other way round.
    answer = default_attributes(3)
    jsonschema.validate(answer, schema)
    Attributes.model_validate(answer)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**answer, "owner": "someone"}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**answer, "metal": {"value": "gold", "confidence": 0.5}}, schema)


def test_J9_an_unsure_answer_in_the_vocabulary_is_accepted(fake):
    unsure = default_attributes(1)
    unsure["type"] = {"value": "unknown", "confidence": 0.1}
    unsure["stones"] = []
    unsure["stones_confidence"] = 0.2
    fake.attributes = unsure
    result = OpenRouterAnalysis().analyse([image()])
    assert result["type"] == {"value": "unknown", "confidence": 0.1}
    assert result["stones"] == []


# --- the fake enforces the contract (so the test above can fail) -------------------------------------------------


def valid_body() -> dict:
    return OpenRouterAnalysis(model="google/gemini-2.5-flash").request_body([image()])


def mutate(change):
    body = valid_body()
    change(body)
    return body


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (mutate(lambda b: b.update(user="user-42")), "personal data field 'user'"),
        (mutate(lambda b: b.update(metadata={"a": 1})), "unknown top-level key 'metadata'"),
        (mutate(lambda b: b["messages"][1]["content"][0].update(text="for ann@example.com")), "e-mail"),
        (mutate(lambda b: b["messages"][1]["content"].reverse()), "must be a text part"),
        (mutate(lambda b: b["provider"].update(data_collection="allow")), 'data_collection must be "deny"'),
        (mutate(lambda b: b["provider"].pop("require_parameters")), "require_parameters must be true"),
        (mutate(lambda b: b["response_format"]["json_schema"].update(strict=False)), "strict must be true"),
        (mutate(lambda b: b.pop("response_format")), "response_format must be"),
        (
            mutate(lambda b: b["response_format"]["json_schema"]["schema"].pop("additionalProperties")),
            "additionalProperties: false",
        ),
        (
            mutate(lambda b: b["response_format"]["json_schema"].update(schema=Attributes.model_json_schema())),
            "unsupported keyword '$defs'",
        ),
        (
            mutate(lambda b: b["messages"][1]["content"][1]["image_url"].update(url="http://example.com/a.png")),
            "must be https, a data: URL or a loopback signed link",
        ),
        (mutate(lambda b: b.update(model="")), "model must be a non-empty string"),
    ],
)
def test_the_fake_refuses_what_the_contract_forbids(fake, body, problem):
    response = requests.post(
        f"{fake.url}/chat/completions", json=body, headers={"Authorization": f"Bearer {fake.api_key}"}, timeout=5
    )
    assert response.status_code == 400
    assert problem in response.json()["error"]["message"]
    # ... and accepts the adapter's own body.
    accepted = requests.post(
        f"{fake.url}/chat/completions",
        json=valid_body(),
        headers={"Authorization": f"Bearer {fake.api_key}"},
        timeout=5,
    )
    assert accepted.status_code == 200, accepted.text


def test_the_fake_answers_wrong_keys_paths_and_methods_in_openrouters_error_shape(fake):
    wrong_key = requests.post(f"{fake.url}/chat/completions", json=valid_body(), headers={"Authorization": "Bearer x"})
    assert wrong_key.status_code == 401 and wrong_key.json()["error"]["code"] == 401
    assert requests.post(f"{fake.url}/completions", json={}, timeout=5).status_code == 404
    assert requests.get(f"{fake.url}/chat/completions", timeout=5).status_code == 405
    with pytest.raises(ValueError, match="unknown fault"):
        fake.inject("status_418")


# --- failures ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "error", "message"),
    [
        ("status_5xx", ProviderUnavailable, "busy or unreachable"),
        ("status_429", ProviderUnavailable, "too many requests"),
        ("status_402", ProviderRefused, "run out of credit"),
        ("malformed_json", ProviderRefused, UNREADABLE),
        ("schema_violation", ProviderRefused, UNREADABLE),
        ("error_200", ProviderUnavailable, "busy or unreachable"),
        ("finish_error", ProviderUnavailable, "failed while answering"),
    ],
)
def test_J9_every_fault_maps_to_the_right_error_with_a_safe_message(fake, fault, error, message):
    fake.inject(fault, times=1)
    with pytest.raises(error) as caught:
        OpenRouterAnalysis().analyse([image()])
    assert type(caught.value) is error
    assert message in str(caught.value)
    assert caught.value.transient is (error is ProviderUnavailable)
    assert_user_safe(caught.value, fake)
    # The fault was used up: the next call works.
    assert OpenRouterAnalysis().analyse([image()])["type"]["value"] == "ring"


def test_a_429_carries_retry_after(fake):
    fake.inject("status_429")
    with pytest.raises(ProviderUnavailable) as caught:
        OpenRouterAnalysis().analyse([image()])
    assert caught.value.retry_after == 7.0


def test_a_timeout_is_unavailable(fake, settings):
    settings.OPENROUTER_TIMEOUT_SECONDS = 1
    fake.hold_seconds = 3
    fake.inject("timeout", times=1)
    with pytest.raises(ProviderUnavailable) as caught:
        OpenRouterAnalysis().analyse([image()])
    assert caught.value.retry_after is None
    assert_user_safe(caught.value, fake)


def test_a_closed_port_is_unavailable(settings):
    with FakeOpenRouter() as gone:
        url, registered = gone.url, gone.subprocessor()
    settings.OPENROUTER_BASE_URL = url
    settings.OPENROUTER_API_KEY = "key"
    settings.SUBPROCESSORS = [registered]
    with pytest.raises(ProviderUnavailable):
        OpenRouterAnalysis().analyse([image()])


def test_a_wrong_key_is_refused(fake, settings):
    settings.OPENROUTER_API_KEY = "sk-or-wrong"
    with pytest.raises(ProviderRefused, match=r"credentials \(HTTP 401\)") as caught:
        OpenRouterAnalysis().analyse([image()])
    assert "sk-or-wrong" not in str(caught.value)


def test_J9_one_shot_per_image_or_the_answer_is_refused(fake):
    fake.attributes = default_attributes(1)
    with pytest.raises(ProviderRefused, match=UNREADABLE):
        OpenRouterAnalysis().analyse([image(), image()])


def test_J9_an_answer_outside_the_vocabulary_is_refused(fake):
    answer = default_attributes(1)
    answer["metal"] = {"value": "gold", "confidence": 0.9}
    fake.attributes = answer
    with pytest.raises(ProviderRefused, match=UNREADABLE):
        OpenRouterAnalysis().analyse([image()])


def test_too_many_or_no_images_are_refused_before_any_request(fake):
    with pytest.raises(ProviderRefused, match="At most 10"):
        OpenRouterAnalysis().analyse([image()] * 11)
    with pytest.raises(ProviderRefused, match="no reference images"):
        OpenRouterAnalysis().analyse([])
    assert fake.requests == []


# --- egress and configuration -----------------------------------------------------------------------------------


def test_J12_an_unregistered_host_is_refused_before_connecting(fake, settings):
    settings.OPENROUTER_BASE_URL = fake.url.replace("127.0.0.1", "localhost")  # same server, unregistered name
    with pytest.raises(EgressRefused, match="not a registered sub-processor host"):
        OpenRouterAnalysis().analyse([image()])
    settings.OPENROUTER_BASE_URL = fake.url
    settings.SUBPROCESSORS = []
    with pytest.raises(EgressRefused):
        OpenRouterAnalysis().analyse([image()])
    assert fake.requests == []


def test_registry_gives_the_configured_analysis_provider(settings):
    settings.JEWELLERY_ANALYSIS_PROVIDER = "openrouter"
    settings.OPENROUTER_API_KEY = "sk-or-test"
    provider = registry.analysis_provider()
    assert isinstance(provider, OpenRouterAnalysis) and provider.name == "openrouter"
    assert provider.model == settings.OPENROUTER_MODEL


def test_registry_refuses_an_unknown_analysis_provider_or_a_missing_key(settings):
    settings.JEWELLERY_ANALYSIS_PROVIDER = "gpt-in-a-box"
    with pytest.raises(ImproperlyConfigured, match="Unknown analysis provider 'gpt-in-a-box'.*local, openrouter"):
        registry.analysis_provider()
    settings.JEWELLERY_ANALYSIS_PROVIDER = "openrouter"
    settings.OPENROUTER_API_KEY = ""
    with pytest.raises(ImproperlyConfigured, match="OPENROUTER_API_KEY"):
        registry.analysis_provider()
    with pytest.raises(ImproperlyConfigured, match="OPENROUTER_API_KEY"):
        OpenRouterAnalysis().analyse([image()])


def test_registry_gives_the_local_analyser_by_name():
    from intaglio.providers import local

    assert isinstance(registry.analysis_provider_named("local"), local.LocalAnalysis)
