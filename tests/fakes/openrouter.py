"""A local OpenRouter: `POST /api/v1/chat/completions` as documented, and nothing else.

    with FakeOpenRouter(api_key="test-openrouter-key") as fake:
        settings.OPENROUTER_BASE_URL = fake.url          # http://127.0.0.1:<port>/api/v1
        settings.OPENROUTER_API_KEY = fake.api_key
        settings.SUBPROCESSORS = [fake.subprocessor()]
        attributes = OpenRouterAnalysis().analyse(images)
        fake.completions[-1].json                        # the request body as received

Constructor: `FakeOpenRouter(api_key="test-openrouter-key", *, attributes=None, fetch_images=False, hold_seconds=3.0,
retry_after=7, faults=None)`.

- `attributes`: the answer, a dict or a callable `(image_count) -> dict`; default `default_attributes(image_count)`,
  a plausible ring with one shot per image. Settable later (`fake.attributes = …`).
- `fetch_images`: GET every `http://127.0.0.1…` image link and refuse the request (400) if one does not answer 200
  with an image (so a signed link must really work). `fake.fetched` lists (url, status).

The request is refused with OpenRouter's error shape `{"error": {"code", "message", "metadata"}}`:
401 for a missing or wrong `Authorization: Bearer <key>`, 404 for another path, 405 for another method, and 400 naming
the problem for: an unknown top-level key; `user` or any personal-looking field or e-mail-like string anywhere;
`model` not a non-empty string; `messages` not a list of role/content messages; a user message whose parts are not one
`text` part then `image_url` parts; an image URL that is not https, a `data:image/…;base64,` URL or a loopback http
link; `response_format` not a strict `json_schema` whose schema obeys strict mode (every object lists all properties
as required and has `additionalProperties: false`, no `$ref`, only supported keywords); `provider.data_collection`
not "deny" or `provider.require_parameters` not true; `stream` true.

Faults (`fake.inject(name, times=None)`):
- `timeout`: hold the reply `hold_seconds` (longer than the client's timeout).
- `status_5xx`: HTTP 502 with an error body. `status_429`: HTTP 429 with `Retry-After: <retry_after>`.
- `status_402`: HTTP 402 (out of credits).
- `malformed_json`: HTTP 200, the message content is prose, not JSON.
- `schema_violation`: HTTP 200, the content is JSON of the wrong shape.
- `error_200`: HTTP 200 with `{"error": {"code": 502, "message": …}}` (an upstream error mid-generation).
- `finish_error`: HTTP 200, `choices[0].finish_reason == "error"` with an empty content.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from tests.fakes import FakeHTTPServer, Recorded, Reply, body_problems

PATH = "/api/v1/chat/completions"
TOP_LEVEL_KEYS = frozenset(
    {"model", "messages", "response_format", "provider", "temperature", "max_tokens", "top_p", "seed", "stream"}
)
PROVIDER_KEYS = frozenset(
    {
        "order",
        "only",
        "ignore",
        "allow_fallbacks",
        "require_parameters",
        "data_collection",
        "zdr",
        "quantizations",
        "sort",
        "max_price",
    }
)
STRICT_KEYWORDS = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "enum",
        "const",
        "description",
        "anyOf",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minItems",
        "maxItems",
        "pattern",
        "format",
    }
)
DATA_URL = re.compile(r"^data:image/(png|jpeg|webp|gif);base64,([A-Za-z0-9+/]+={0,2})$")
SHOTS = ("packshot", "cad_render", "on_model", "lifestyle", "sketch")


def default_attributes(image_count: int) -> dict:
    """A plausible answer: a yellow-gold ring with a round centre stone and pavé, one shot per image."""
    return {
        "type": {"value": "ring", "confidence": 0.93},
        "metal": {"value": "yellow_gold", "confidence": 0.86},
        "stones": [
            {"colour": "colourless", "count": 1, "cut": "round", "confidence": 0.82},
            {"colour": "colourless", "count": 14, "cut": "round", "confidence": 0.55},
        ],
        "stones_confidence": 0.78,
        "finish": {"value": "polished", "confidence": 0.9},
        "shots": [{"value": SHOTS[index % len(SHOTS)], "confidence": 0.8} for index in range(max(image_count, 1))],
    }


def error_body(code: int, message: str, **metadata) -> dict:
    return {"error": {"code": code, "message": message, "metadata": metadata or None}}


class FakeOpenRouter(FakeHTTPServer):
    FAULTS = frozenset(
        {
            "timeout",
            "status_5xx",
            "status_429",
            "status_402",
            "malformed_json",
            "schema_violation",
            "error_200",
            "finish_error",
        }
    )
    name = "Fake OpenRouter"

    def __init__(
        self,
        api_key: str = "test-openrouter-key",
        *,
        attributes: dict | Callable[[int], dict] | None = None,
        fetch_images: bool = False,
        hold_seconds: float = 3.0,
        retry_after: int = 7,
        faults: dict[str, int | None] | None = None,
    ):
        super().__init__(faults)
        self.api_key = api_key
        self.attributes = attributes
        self.fetch_images = fetch_images
        self.hold_seconds = hold_seconds
        self.retry_after = retry_after
        self._counter = 0

    @property
    def url(self) -> str:
        return f"{self.origin}/api/v1"

    @property
    def completions(self) -> list[Recorded]:
        """The requests that reached the completions endpoint (accepted or not)."""
        return [request for request in self.requests if request.path == PATH]

    # --- the API ---

    def handle(self, request: Recorded) -> Reply:
        if request.path != PATH:
            return Reply.json(404, error_body(404, f"Not found: {request.path}"))
        if request.method != "POST":
            return Reply.json(405, error_body(405, f"Method {request.method} not allowed"), headers={"Allow": "POST"})
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return Reply.json(
                401,
                error_body(
                    401, "No auth credentials found" if "authorization" not in request.headers else "User not found."
                ),
            )
        body = request.json
        if not isinstance(body, dict):
            return Reply.json(400, error_body(400, "The request body must be a JSON object"))
        problems = self.problems(body)
        if problems:
            return Reply.json(400, error_body(400, "; ".join(problems)))
        return self.answer(body)

    def problems(self, body: dict) -> list[str]:
        """What this request gets wrong against the documented API and our privacy contract (empty: valid)."""
        problems = body_problems(body, TOP_LEVEL_KEYS)
        model = body.get("model")
        if not isinstance(model, str) or not model.strip():
            problems.append("model must be a non-empty string")
        if body.get("stream"):
            problems.append("stream must be false: this endpoint answers in one JSON body")
        problems += self._message_problems(body.get("messages"))
        problems += _response_format_problems(body.get("response_format"))
        problems += _provider_problems(body.get("provider"))
        temperature = body.get("temperature")
        if temperature is not None and (not isinstance(temperature, int | float) or not 0 <= temperature <= 2):
            problems.append("temperature must be a number in [0, 2]")
        return problems

    def _message_problems(self, messages: Any) -> list[str]:
        if not isinstance(messages, list) or not messages:
            return ["messages must be a non-empty list"]
        problems = []
        user_messages = 0
        for index, message in enumerate(messages):
            if not isinstance(message, dict) or message.get("role") not in ("system", "user", "assistant"):
                problems.append(f"messages[{index}] needs a role of system, user or assistant")
                continue
            if set(message) - {"role", "content"}:
                problems.append(f"messages[{index}] has unknown keys {sorted(set(message) - {'role', 'content'})}")
            content = message.get("content")
            if isinstance(content, str):
                continue
            if message["role"] != "user" or not isinstance(content, list):
                problems.append(f"messages[{index}].content must be a string (or content parts for a user message)")
                continue
            user_messages += 1
            problems += self._parts_problems(index, content)
        if not user_messages:
            problems.append("a user message with content parts (text, then image_url) is required")
        return problems

    def _parts_problems(self, index: int, parts: list) -> list[str]:
        where = f"messages[{index}].content"
        if len(parts) < 2:
            return [f"{where} must hold one text part then at least one image_url part"]
        problems = []
        first = parts[0]
        if not (isinstance(first, dict) and first.get("type") == "text" and isinstance(first.get("text"), str)):
            problems.append(f"{where}[0] must be a text part")
        for number, part in enumerate(parts[1:], start=1):
            image = part.get("image_url") if isinstance(part, dict) else None
            if not (isinstance(part, dict) and part.get("type") == "image_url" and isinstance(image, dict)):
                problems.append(f"{where}[{number}] must be an image_url part (text first, then images)")
                continue
            url = image.get("url")
            problem = self._image_url_problem(url)
            if problem:
                problems.append(f"{where}[{number}].image_url.url {problem}")
        return problems

    def _image_url_problem(self, url: Any) -> str | None:
        if not isinstance(url, str):
            return "must be a string"
        if url.startswith("data:"):
            match = DATA_URL.match(url)
            if not match:
                return "must be a data:image/<png|jpeg|webp|gif>;base64,<data> URL"
            try:
                base64.b64decode(match.group(2), validate=True)
            except ValueError:
                return "holds invalid base64"
            return None
        parts = urlsplit(url)
        if parts.scheme == "https" and parts.hostname:
            return None
        if parts.scheme == "http" and parts.hostname == "127.0.0.1":
            if self.fetch_images:
                return self.fetch_image(url)
            return None
        return "must be https, a data: URL or a loopback signed link"

    def answer(self, body: dict) -> Reply:
        image_count = sum(
            1
            for message in body["messages"]
            if isinstance(message.get("content"), list)
            for part in message["content"]
            if part.get("type") == "image_url"
        )
        if self._take("timeout"):
            return self._completion(body, image_count, delay=self.hold_seconds)
        if self._take("status_5xx"):
            return Reply.json(502, error_body(502, "Provider returned error", provider_name="FakeUpstream"))
        if self._take("status_429"):
            return Reply.json(
                429,
                error_body(429, "Rate limit exceeded: too many requests"),
                headers={"Retry-After": str(self.retry_after)},
            )
        if self._take("status_402"):
            return Reply.json(402, error_body(402, "Insufficient credits"))
        if self._take("error_200"):
            return Reply.json(200, error_body(502, "Upstream provider error during generation"))
        if self._take("finish_error"):
            return self._completion(body, image_count, content="", finish_reason="error")
        if self._take("malformed_json"):
            return self._completion(body, image_count, content="Sure! The piece looks like a gold ring with a diamond.")
        if self._take("schema_violation"):
            wrong = {"type": "ring", "metal": "gold", "stones": "one diamond", "shots": []}
            return self._completion(body, image_count, content=json.dumps(wrong))
        return self._completion(body, image_count)

    def _completion(
        self,
        body: dict,
        image_count: int,
        *,
        content: str | None = None,
        finish_reason: str = "stop",
        delay: float = 0.0,
    ) -> Reply:
        if content is None:
            attributes = self.attributes
            answer = attributes(image_count) if callable(attributes) else attributes
            if answer is None:
                answer = default_attributes(image_count)
            content = json.dumps(answer)
        with self._lock:
            self._counter += 1
            generation = f"gen-fake-{self._counter}"
        return Reply.json(
            200,
            {
                "id": generation,
                "provider": "FakeUpstream",
                "model": body.get("model"),
                "object": "chat.completion",
                "created": int(time.time()),
                "choices": [
                    {
                        "index": 0,
                        "logprobs": None,
                        "finish_reason": finish_reason,
                        "native_finish_reason": finish_reason.upper(),
                        "message": {"role": "assistant", "content": content, "refusal": None},
                    }
                ],
                "usage": {"prompt_tokens": 1200, "completion_tokens": 120, "total_tokens": 1320},
            },
            delay=delay,
        )


def _response_format_problems(response_format: Any) -> list[str]:
    if not isinstance(response_format, dict) or response_format.get("type") != "json_schema":
        return ["response_format must be {type: json_schema, json_schema: {...}}"]
    spec = response_format.get("json_schema")
    if not isinstance(spec, dict):
        return ["response_format.json_schema must be an object"]
    problems = []
    name = spec.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
        problems.append("response_format.json_schema.name must be 1-64 letters, digits, _ or -")
    if spec.get("strict") is not True:
        problems.append("response_format.json_schema.strict must be true")
    schema = spec.get("schema")
    if not isinstance(schema, dict) or schema.get("type") != "object":
        problems.append("response_format.json_schema.schema must be an object schema")
    else:
        problems += strict_schema_problems(schema, "schema")
    return problems


def strict_schema_problems(node: Any, where: str) -> list[str]:
    """What breaks strict structured-output mode in this schema (empty: it is accepted)."""
    if not isinstance(node, dict):
        return [f"{where} must be a schema object"]
    problems = [f"{where} uses unsupported keyword {key!r}" for key in node if key not in STRICT_KEYWORDS]
    properties = node.get("properties")
    if node.get("type") == "object":
        if not isinstance(properties, dict):
            problems.append(f"{where} is an object without properties")
            properties = {}
        if node.get("additionalProperties") is not False:
            problems.append(f"{where} must set additionalProperties: false")
        if sorted(node.get("required") or []) != sorted(properties):
            problems.append(f"{where} must list every property in required")
    for name, sub in (properties or {}).items():
        problems += strict_schema_problems(sub, f"{where}.{name}")
    if "items" in node:
        problems += strict_schema_problems(node["items"], f"{where}[]")
    for index, sub in enumerate(node.get("anyOf") or []):
        problems += strict_schema_problems(sub, f"{where}.anyOf[{index}]")
    return problems


def _provider_problems(provider: Any) -> list[str]:
    if not isinstance(provider, dict):
        return ["provider preferences are required: data_collection deny, require_parameters true"]
    problems = [f"unknown provider preference {key!r}" for key in provider if key not in PROVIDER_KEYS]
    if provider.get("data_collection") != "deny":
        problems.append('provider.data_collection must be "deny"')
    if provider.get("require_parameters") is not True:
        problems.append("provider.require_parameters must be true")
    if "zdr" in provider and not isinstance(provider["zdr"], bool):
        problems.append("provider.zdr must be a boolean")
    return problems
