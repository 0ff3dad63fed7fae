"""A local WaveSpeed (v3 API): submit, result, outputs and signed webhooks, as documented, and nothing else.

    with FakeWaveSpeed(api_key="test-wavespeed-key", webhook_secret="whsec_…") as fake:
        settings.WAVESPEED_BASE_URL = fake.url           # http://127.0.0.1:<port>
        settings.WAVESPEED_API_KEY = fake.api_key
        settings.WAVESPEED_WEBHOOK_SECRET = fake.webhook_secret
        settings.SUBPROCESSORS = [fake.subprocessor()]
        prediction_id = WaveSpeedGeneration().submit(request, webhook_url=...)
        fake.complete(prediction_id)                     # finish now (and deliver the webhook, if one was given)

Constructor: `FakeWaveSpeed(api_key="test-wavespeed-key", webhook_secret="whsec_dGVzdC1zZWNyZXQ", *, models=None,
steps=1, fetch_images=True, max_concurrent=None, hold_seconds=3.0, retry_after=1, faults=None)`.

- `models`: {model id: most reference images}; default `{"bytedance/seedream-v4/edit": 10}`. Another model path: 404.
- `steps`: result reads that answer "processing" before the prediction completes (the submit reply says "created";
  with steps=1 the first read says processing and the second completed; steps=0 completes on the first read).
- `fetch_images`: GET every reference link at submit and refuse (400) unless each answers 200 with an image, so a
  signed link must really work. Only loopback links can be fetched; with fetching on, others are refused.
  `fake.fetched` lists (url, status).
- `max_concurrent`: unfinished predictions allowed at once; a submit beyond answers 429 (the default tier allows 2).

Endpoints: `POST /api/v3/{model}[?webhook=<url>]` (Bearer key; JSON with only `prompt` (required), `images` (1 to the
model's limit of http(s) links, required), `size` ("W*H", each side 1024–4096) and `seed` (-1 … 2^31-1); any other key,
a personal-looking field or an e-mail-like string: 400 naming it) → `{"code": 200, "message": "success", "data":
{id, model, outputs: [], urls: {get}, has_nsfw_contents, status: "created", created_at, error: "", timings}}`.
`GET /api/v3/predictions/{id}/result` → the same envelope with the current status; an unknown id: 404.
`GET /outputs/<id>-<n>.png` (no key, like a CDN) → the output image (`fake.output_body`, `fake.output_content_type`
override it). Errors use `{"code": <status>, "message": …, "data": null}` with that HTTP status: 401 (key), 404 (path
or model), 405 (method), 400 (body).

Webhooks: when a prediction submitted with `?webhook=` finishes (completed or failed), the fake POSTs the flat
prediction object (with `input`) to that URL with `webhook-id`, `webhook-timestamp` and `webhook-signature: v3,<hex>`
(HMAC-SHA256 keyed with the secret minus `whsec_`, over `{id}.{timestamp}.{body}`). Finishing through `complete()` /
`fail()` delivers on the caller's thread; finishing on a result read delivers on a background thread
(`wait_for_deliveries(n)`). `fake.deliveries` records every attempt (`Delivery`: webhook_id, url, headers, body,
status, error). `fake.signed_headers(body, …)` signs any body, for hand-made deliveries.

Faults (`fake.inject(name, times=None)`):
- submit: `submit_timeout` (the task IS created, the reply is held `hold_seconds`), `submit_5xx` (502, not created),
  `submit_429` (429 with Retry-After, not created), `prediction_failed` (the next submitted prediction ends "failed"
  with `data.error`, HTTP 200), `stuck` (the next submitted prediction never finishes).
- result reads: `read_5xx` (503), `read_429` (429 with Retry-After), `read_timeout` (held `hold_seconds`),
  `malformed_json` (200 with an HTML body), `schema_violation` (200 with JSON lacking `data.status`).
- webhooks: `duplicate_webhook` (the same delivery twice), `late_webhook` (held until `fake.deliver_webhooks()`),
  `forged_webhook` (signed with another secret), `stale_webhook` (timestamp 10 minutes old), `no_webhook` (never
  delivered: the client must poll).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from tests.fakes import FakeHTTPServer, Recorded, Reply, body_problems, tiny_png

ALLOWED_KEYS = ("prompt", "images", "size", "seed")
SIZE = re.compile(r"^(\d{3,5})\*(\d{3,5})$")
RESULT = re.compile(r"^/api/v3/predictions/([^/]+)/result$")
OUTPUT = re.compile(r"^/outputs/([^/]+)-(\d+)\.png$")


@dataclass
class Delivery:
    webhook_id: str
    url: str
    headers: dict[str, str]
    body: bytes
    status: int | None = None  # the receiver's HTTP status, None when not (yet) sent or the connection failed
    error: str = ""


@dataclass
class _Prediction:
    id: str
    model: str
    input: dict
    webhook_url: str | None
    created_at: str
    status: str = "created"
    outputs: list[str] = field(default_factory=list)
    error: str = ""
    reads: int = 0
    will_fail: bool = False
    stuck: bool = False

    @property
    def finished(self) -> bool:
        return self.status in ("completed", "failed")


def _error(status: int, message: str) -> Reply:
    return Reply.json(status, {"code": status, "message": message, "data": None})


class FakeWaveSpeed(FakeHTTPServer):
    FAULTS = frozenset(
        {
            "submit_timeout",
            "submit_5xx",
            "submit_429",
            "prediction_failed",
            "stuck",
            "read_5xx",
            "read_429",
            "read_timeout",
            "malformed_json",
            "schema_violation",
            "duplicate_webhook",
            "late_webhook",
            "forged_webhook",
            "stale_webhook",
            "no_webhook",
        }
    )
    name = "Fake WaveSpeed"

    def __init__(
        self,
        api_key: str = "test-wavespeed-key",
        webhook_secret: str = "whsec_dGVzdC1zZWNyZXQ",
        *,
        models: dict[str, int] | None = None,
        steps: int = 1,
        fetch_images: bool = True,
        max_concurrent: int | None = None,
        hold_seconds: float = 3.0,
        retry_after: int = 1,
        faults: dict[str, int | None] | None = None,
    ):
        super().__init__(faults)
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.models = dict(models or {"bytedance/seedream-v4/edit": 10})
        self.steps = steps
        self.fetch_images = fetch_images
        self.max_concurrent = max_concurrent
        self.hold_seconds = hold_seconds
        self.retry_after = retry_after
        self.output_body: bytes | None = None
        self.output_content_type = "image/png"
        self._default_output = tiny_png((230, 190, 90), (24, 24))
        self._predictions: dict[str, _Prediction] = {}
        self._deliveries: list[Delivery] = []
        self._pending: list[Delivery] = []
        self._delivered = threading.Condition(self._lock)

    # --- views for tests ---

    @property
    def submissions(self) -> list[Recorded]:
        """Every POST to a model path (accepted or not): a submit must never be repeated."""
        return [
            r
            for r in self.requests
            if r.method == "POST" and r.path.startswith("/api/v3/") and not r.path.startswith("/api/v3/predictions/")
        ]

    @property
    def result_reads(self) -> list[Recorded]:
        return [r for r in self.requests if RESULT.match(r.path)]

    @property
    def deliveries(self) -> list[Delivery]:
        with self._lock:
            return list(self._deliveries)

    @property
    def pending_webhooks(self) -> list[Delivery]:
        with self._lock:
            return list(self._pending)

    @property
    def prediction_ids(self) -> list[str]:
        with self._lock:
            return list(self._predictions)

    def prediction(self, prediction_id: str) -> dict:
        """The flat prediction object, as a webhook would carry it."""
        with self._lock:
            return self._flat(self._predictions[prediction_id], with_input=True)

    # --- controls ---

    def complete(self, prediction_id: str) -> dict:
        """Finishes the prediction successfully now; a webhook (if asked for) is delivered before this returns."""
        return self._finish_now(prediction_id, fail=False)

    def fail(self, prediction_id: str, error: str = "The model could not generate an image.") -> dict:
        return self._finish_now(prediction_id, fail=True, error=error)

    def deliver_webhooks(self) -> list[Delivery]:
        """Sends the held (`late_webhook`) deliveries now, on this thread; returns them with their outcome."""
        with self._lock:
            pending, self._pending = self._pending, []
        for delivery in pending:
            self._send(delivery)
        return pending

    def wait_for_deliveries(self, count: int, timeout: float = 5.0) -> list[Delivery]:
        """Waits until at least `count` deliveries were attempted (background ones included)."""
        deadline = time.monotonic() + timeout
        with self._delivered:
            while len(self._deliveries) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} webhook deliveries, got {len(self._deliveries)}")
                self._delivered.wait(remaining)
            return list(self._deliveries)

    def signed_headers(
        self,
        body: bytes,
        *,
        webhook_id: str | None = None,
        timestamp: int | None = None,
        secret: str | None = None,
    ) -> dict[str, str]:
        """The v3 headers WaveSpeed sends with `body` (its own secret unless another is given)."""
        webhook_id = webhook_id or f"wh_{uuid.uuid4().hex[:24]}"
        timestamp = int(time.time()) if timestamp is None else int(timestamp)
        key = (secret if secret is not None else self.webhook_secret).removeprefix("whsec_").encode()
        signature = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        return {
            "webhook-id": webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": f"v3,{signature}",
            "Content-Type": "application/json",
        }

    # --- the API ---

    def handle(self, request: Recorded) -> Reply:
        output = OUTPUT.match(request.path)
        if output:
            return self._output(request, output.group(1), int(output.group(2)))
        result = RESULT.match(request.path)
        if result:
            if request.method != "GET":
                return _error(405, "Method not allowed")
            if not self._authorised(request):
                return _error(401, "Unauthorized: invalid or missing API key")
            return self._result(result.group(1))
        if request.path.startswith("/api/v3/") and not request.path.startswith("/api/v3/predictions/"):
            model = request.path.removeprefix("/api/v3/")
            if model not in self.models:
                return _error(404, f"Model not found: {model}")
            if request.method != "POST":
                return _error(405, "Method not allowed")
            if not self._authorised(request):
                return _error(401, "Unauthorized: invalid or missing API key")
            return self._submit(request, model)
        return _error(404, f"Not found: {request.path}")

    def _authorised(self, request: Recorded) -> bool:
        return hmac.compare_digest(request.headers.get("authorization", ""), f"Bearer {self.api_key}")

    def _submit(self, request: Recorded, model: str) -> Reply:
        webhooks = request.query.get("webhook") or []
        if len(webhooks) > 1 or (webhooks and urlsplit(webhooks[0]).scheme not in ("http", "https")):
            return _error(400, "webhook must be one http(s) URL")
        if request.json is None and request.body:
            return _error(400, "The request body is not valid JSON")
        problems = self.problems(request.json, model)
        if problems:
            return _error(400, "; ".join(problems))
        if self._take("submit_5xx"):
            return _error(502, "Bad gateway")
        with self._lock:
            running = sum(1 for p in self._predictions.values() if not p.finished)
        if self._take("submit_429") or (self.max_concurrent is not None and running >= self.max_concurrent):
            return Reply.json(
                429,
                {"code": 429, "message": "Too many requests: concurrent task limit reached", "data": None},
                headers={"Retry-After": str(self.retry_after)},
            )
        prediction = _Prediction(
            id=uuid.uuid4().hex,
            model=model,
            input=dict(request.json),
            webhook_url=webhooks[0] if webhooks else None,
            created_at=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            will_fail=self._take("prediction_failed"),
            stuck=self._take("stuck"),
        )
        with self._lock:
            self._predictions[prediction.id] = prediction
            reply = {"code": 200, "message": "success", "data": self._flat(prediction)}
        delay = self.hold_seconds if self._take("submit_timeout") else 0.0
        return Reply.json(200, reply, delay=delay)

    def problems(self, body: Any, model: str) -> list[str]:
        """What this submit body gets wrong (empty: valid)."""
        if not isinstance(body, dict):
            return ["The request body must be a JSON object"]
        problems = body_problems(body, ALLOWED_KEYS)
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            problems.append("prompt is required and must be a non-empty string")
        images = body.get("images")
        limit = self.models[model]
        if not isinstance(images, list) or not 1 <= len(images) <= limit:
            problems.append(f"images must be a list of 1 to {limit} image URLs")
            images = []
        for index, url in enumerate(images):
            if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
                problems.append(f"images[{index}] must be an http(s) URL")
            elif self.fetch_images:
                problem = self.fetch_image(url)
                if problem:
                    problems.append(f"images[{index}] {problem}")
        size = body.get("size")
        if size is not None:
            match = SIZE.match(size) if isinstance(size, str) else None
            if not match or not all(1024 <= int(side) <= 4096 for side in match.groups()):
                problems.append('size must be "W*H" with each side between 1024 and 4096')
        seed = body.get("seed")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or not -1 <= seed <= 2**31 - 1):
            problems.append("seed must be an integer between -1 and 2147483647")
        return problems

    def _result(self, prediction_id: str) -> Reply:
        if self._take("read_timeout"):
            return Reply(200, b"", delay=self.hold_seconds)
        if self._take("read_5xx"):
            return _error(503, "Service temporarily unavailable")
        if self._take("read_429"):
            return Reply.json(
                429,
                {"code": 429, "message": "Too many requests", "data": None},
                headers={"Retry-After": str(self.retry_after)},
            )
        if self._take("malformed_json"):
            return Reply(200, b"<html><body>502 upstream hiccup</body></html>", "text/html")
        with self._lock:
            prediction = self._predictions.get(prediction_id)
            if prediction is None:
                return _error(404, "Prediction not found")
            finished_now = False
            if prediction.stuck:
                prediction.status = "processing"
            elif not prediction.finished:
                prediction.reads += 1
                if prediction.reads > self.steps:
                    self._finish(prediction)
                    finished_now = True
                else:
                    prediction.status = "processing"
            data = self._flat(prediction)
        if finished_now:
            threading.Thread(target=self._announce, args=(prediction_id,), daemon=True).start()
        if self._take("schema_violation"):
            data = {key: value for key, value in data.items() if key != "status"}
        return Reply.json(200, {"code": 200, "message": "success", "data": data})

    def _output(self, request: Recorded, prediction_id: str, index: int) -> Reply:
        if request.method != "GET":
            return Reply(405, b"method not allowed", "text/plain")
        with self._lock:
            prediction = self._predictions.get(prediction_id)
            ok = prediction is not None and prediction.status == "completed" and index < len(prediction.outputs)
        if not ok:
            return Reply(404, b"<Error><Code>NoSuchKey</Code></Error>", "application/xml")
        body = self.output_body if self.output_body is not None else self._default_output
        return Reply(200, body, self.output_content_type)

    # --- finishing and webhooks ---

    def _finish(self, prediction: _Prediction, *, fail: bool | None = None, error: str = "") -> None:
        """Moves a prediction to its end state (caller holds the lock)."""
        failing = prediction.will_fail if fail is None else fail
        if failing:
            prediction.status = "failed"
            prediction.outputs = []
            prediction.error = error or "Inference failed: the input images could not be processed."
        else:
            prediction.status = "completed"
            prediction.outputs = [f"{self.origin}/outputs/{prediction.id}-0.png"]
            prediction.error = ""

    def _finish_now(self, prediction_id: str, *, fail: bool, error: str = "") -> dict:
        with self._lock:
            prediction = self._predictions[prediction_id]
            if not prediction.finished:
                self._finish(prediction, fail=fail, error=error)
            flat = self._flat(prediction, with_input=True)
        self._announce(prediction_id)
        return flat

    def _announce(self, prediction_id: str) -> None:
        """Delivers (or holds) the webhook of a finished prediction, honouring the webhook faults."""
        with self._lock:
            prediction = self._predictions[prediction_id]
            if not prediction.webhook_url:
                return
            flat = self._flat(prediction, with_input=True)
            url = prediction.webhook_url
        if self._take("no_webhook"):
            return
        body = json.dumps(flat).encode()
        timestamp = int(time.time()) - (600 if self._take("stale_webhook") else 0)
        secret = "whsec_bm90LXRoZS1yZWFsLXNlY3JldA" if self._take("forged_webhook") else None
        headers = self.signed_headers(body, timestamp=timestamp, secret=secret)
        copies = 2 if self._take("duplicate_webhook") else 1
        deliveries = [Delivery(headers["webhook-id"], url, dict(headers), body) for _ in range(copies)]
        if self._take("late_webhook"):
            with self._lock:
                self._pending.extend(deliveries)
            return
        for delivery in deliveries:
            self._send(delivery)

    def _send(self, delivery: Delivery) -> None:
        request = urllib.request.Request(delivery.url, data=delivery.body, headers=delivery.headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - test receivers only
                delivery.status = response.status
                response.read()
        except urllib.error.HTTPError as exc:
            delivery.status = exc.code
        except OSError as exc:
            delivery.error = repr(exc)
        with self._delivered:
            self._deliveries.append(delivery)
            self._delivered.notify_all()

    def _flat(self, prediction: _Prediction, *, with_input: bool = False) -> dict:
        flat: dict[str, Any] = {"id": prediction.id, "model": prediction.model}
        if with_input:
            flat["input"] = prediction.input
        flat.update(
            {
                "outputs": list(prediction.outputs),
                "urls": {"get": f"{self.origin}/api/v3/predictions/{prediction.id}/result"},
                "has_nsfw_contents": [False] * len(prediction.outputs),
                "status": prediction.status,
                "created_at": prediction.created_at,
                "error": prediction.error,
                "timings": {"inference": 2500 if prediction.finished else 0},
            }
        )
        return flat
