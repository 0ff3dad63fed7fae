"""Generation through WaveSpeed's v3 API (J8): asynchronous predictions, read by verified webhook or polling.

- `submit`: `POST {WAVESPEED_BASE_URL}/api/v3/{model}` (with `?webhook=<url>` when given) and the JSON of
  `payload()`: only `prompt`, `images` (short-lived signed links), `size` and `seed`. Never retried: once the request
  may have left, a second submit could run and bill the work twice, so a timeout, a dropped connection or a 5xx is
  `SubmitUncertain`.
- `result`: `GET /api/v3/predictions/{id}/result`, retried here on 429/5xx/timeouts with bounded exponential backoff
  (honouring Retry-After), then `ProviderUnavailable`. The reply is validated into a `Prediction`.
- `download`: fetches an output (size-capped, streamed, an image by content type and by decoding), for copying into
  our storage at once. No API key is sent to the output host.
- `parse_webhook`: verifies a delivery's `webhook-signature: v3,<hex>` (HMAC-SHA256 keyed with the secret without
  its `whsec_` prefix, over `{webhook-id}.{webhook-timestamp}.{raw body}`), refuses timestamps more than 300 s off,
  and validates the flat prediction object.

All HTTP goes through `privacy.egress.outbound_session()`. The pause between retries (`backoff_sleep`) and the clock
of the webhook window (`clock`) are module attributes, so tests can replace them (or pass `sleep=` / `clock=`).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import math
import re
import time
from typing import Any
from urllib.parse import quote, urlsplit

from django.conf import settings

from intaglio.core.egress import EgressRefused, outbound_session
from intaglio.providers.base import (
    STAGINGS,
    GenerationRequest,
    Prediction,
    ProviderRefused,
    ProviderUnavailable,
    RemoteService,
    Rendered,
    SubmitUncertain,
    WebhookRejected,
)
from intaglio.providers.openrouter import retry_after_seconds, transport_failure

log = logging.getLogger("intaglio.providers")

# Replaceable in tests (looked up at call time).
backoff_sleep = time.sleep
clock = time.time

STATUSES = ("created", "processing", "completed", "failed", "cancelled", "timeout")
PAYLOAD_KEYS = ("prompt", "images", "size", "seed")  # the J8 allow-list: nothing else is ever sent
WEBHOOK_TOLERANCE_SECONDS = 300
MAX_DOWNLOAD_BYTES = 40 * 1024 * 1024
IMAGE_MIMES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
SEED_MAX = 2**31 - 1

# Reference images each model accepts (documented); other models get the seedream limit.
MAX_IMAGES = {
    "bytedance/seedream-v4/edit": 10,
    "wavespeed-ai/flux-kontext-dev/multi": 4,
}
# Output sides in pixels, per model (seedream v4: each side 1024–4096, "W*H").
SIZE_RANGE = {"bytedance/seedream-v4/edit": (1024, 4096)}
DEFAULT_SIZE_RANGE = (1024, 4096)
# Seedream's recommended sizes (about 4 megapixels) for the aspect ratios the studio offers.
SIZES = {
    "1:1": (2048, 2048),
    "4:5": (1856, 2320),
    "5:4": (2320, 1856),
    "3:4": (1728, 2304),
    "4:3": (2304, 1728),
    "2:3": (1664, 2496),
    "3:2": (2496, 1664),
    "16:9": (2560, 1440),
    "9:16": (1440, 2560),
    "21:9": (3024, 1296),
}
_RATIO = re.compile(r"^\s*(\d{1,3})\s*:\s*(\d{1,3})\s*$")
_WEBHOOK_ID = re.compile(r"^[\w.:-]{1,200}$")

UNREADABLE = "The generation service returned an answer we could not read."
BUSY = "The generation service is busy or unreachable at the moment."
UNCERTAIN = (
    "We could not tell whether the generation service accepted the request, so it was not sent again "
    "(that could run and charge it twice)."
)


def size_for(aspect_ratio: str, model: str = "") -> str:
    """`"W*H"` for an aspect ratio such as "4:5", about 4 megapixels, each side within the model's range."""
    low, high = SIZE_RANGE.get(model, DEFAULT_SIZE_RANGE)
    match = _RATIO.match(aspect_ratio or "")
    if not match or not int(match.group(1)) or not int(match.group(2)):
        raise ProviderRefused(f"The aspect ratio {aspect_ratio!r} is not one the generation service supports.")
    a, b = int(match.group(1)), int(match.group(2))
    known = SIZES.get(f"{a}:{b}")
    if known:
        width, height = known
    else:
        width = math.sqrt(2048 * 2048 * a / b)
        height = width * b / a
        width, height = round(width / 16) * 16, round(height / 16) * 16
    if not (low <= width <= high and low <= height <= high):
        raise ProviderRefused(f"The aspect ratio {aspect_ratio!r} is outside what the generation model can make.")
    return f"{width}*{height}"


def parse_prediction(data: Any) -> Prediction:
    """A Prediction from WaveSpeed's prediction object (`data` of a result reply, or a webhook body).
    Raises ValueError naming what does not match the documented shape."""
    if not isinstance(data, dict):
        raise ValueError("the prediction is not an object")
    prediction_id = data.get("id")
    if not isinstance(prediction_id, str) or not prediction_id.strip():
        raise ValueError("the prediction has no id")
    status = data.get("status")
    if not isinstance(status, str):
        raise ValueError("the prediction has no status")
    if status not in STATUSES:
        raise ValueError(f"unknown prediction status {status[:40]!r}")
    outputs = data.get("outputs")
    if outputs is None:
        outputs = []
    if not isinstance(outputs, list) or not all(isinstance(url, str) for url in outputs):
        raise ValueError("outputs is not a list of links")
    for url in outputs:
        if urlsplit(url).scheme not in ("http", "https"):
            raise ValueError("an output is not an http(s) link")
    error = data.get("error")
    if error is None:
        error = ""
    if not isinstance(error, str):
        raise ValueError("error is not text")
    if status == "completed" and not outputs:
        raise ValueError("a completed prediction without outputs")
    return Prediction(id=prediction_id, status=status, outputs=list(outputs), error=error.strip()[:500])


class WaveSpeedGeneration(RemoteService):
    """The remote generator."""

    name = "wavespeed"
    settings_prefix = "WAVESPEED"
    role = "The WaveSpeed generation provider"
    asynchronous = True
    stagings = STAGINGS

    def __init__(
        self,
        *,
        webhook_secret: str | None = None,
        sleep=None,
        clock=None,
        read_attempts: int = 4,
        backoff_seconds: float = 1.0,
        max_backoff_seconds: float = 8.0,
        max_total_wait_seconds: float = 20.0,
        max_download_bytes: int = MAX_DOWNLOAD_BYTES,
        **service,  # api_key, base_url, model, timeout: see RemoteService
    ):
        super().__init__(**service)
        self._webhook_secret = webhook_secret
        self._sleep = sleep
        self._clock = clock
        self.read_attempts = max(1, read_attempts)
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.max_total_wait_seconds = max_total_wait_seconds
        self.max_download_bytes = max_download_bytes

    def _pause(self, seconds: float) -> None:
        (self._sleep or backoff_sleep)(seconds)

    def _now(self) -> float:
        return (self._clock or clock)()

    def render(self, request: GenerationRequest) -> Rendered:
        raise NotImplementedError("WaveSpeed is asynchronous: use submit(), then result() or a webhook.")

    # --- submit ----------------------------------------------------------------------------------------------

    def payload(self, request: GenerationRequest) -> dict:
        """The exact JSON body of a submit: the J8 allow-list (prompt, signed image links, size, seed) and nothing
        else, so no e-mail, user id or address can ride along."""
        prompt = (request.prompt or "").strip()
        if not prompt:
            raise ProviderRefused("There is no prompt to generate from.")
        if not request.references:
            raise ProviderRefused("Generation needs at least one reference image.")
        limit = MAX_IMAGES.get(self.model, 10)
        if len(request.references) > limit:
            raise ProviderRefused(f"The generation model takes at most {limit} reference images.")
        images = []
        for reference in request.references:
            if not reference.url or urlsplit(reference.url).scheme not in ("http", "https"):
                raise ProviderRefused(
                    "Reference images are sent to the generation service as short-lived links, and a link could "
                    "not be made (the site address must be reachable from the internet)."
                )
            images.append(reference.url)
        body = {
            "prompt": prompt,
            "images": images,
            "size": size_for(request.aspect_ratio, self.model),
            "seed": int(request.seed) & SEED_MAX,
        }
        assert tuple(body) == PAYLOAD_KEYS
        return body

    def submit(self, request: GenerationRequest, *, webhook_url: str | None) -> str:
        body = self.payload(request)
        headers = self._headers()
        url = f"{self.base_url}/api/v3/{self.model}"
        params = {"webhook": webhook_url} if webhook_url else None
        try:
            with outbound_session() as session:
                response = session.post(url, params=params, json=body, headers=headers, timeout=self.timeout)
                status, raw = response.status_code, response.content
        except EgressRefused:
            raise
        except OSError as exc:
            kind = transport_failure(exc)
            log.warning("provider.wavespeed.submit_transport", extra={"failure": kind or type(exc).__name__})
            if kind:
                # The request may have reached WaveSpeed and created (and billed) a task.
                raise SubmitUncertain(UNCERTAIN) from exc
            raise ProviderRefused("The generation service could not be reached with this configuration.") from exc
        payload = _json_or_none(raw)
        code = _body_code(payload)
        if status == 200 and code not in (None, 200):
            status = code  # WaveSpeed mirrors the HTTP status in `code`; trust the stricter of the two
        if status != 200:
            log.warning("provider.wavespeed.submit_http_error", extra={"status": status})
            if status == 429:
                # Documented: 429 means the request was NOT accepted (rate or concurrency limit), so no task exists
                # and trying again later is safe.
                raise ProviderUnavailable(
                    "The generation service is at its limit of running tasks.",
                    retry_after=retry_after_seconds(response.headers),
                )
            if status >= 500 or status == 408:
                raise SubmitUncertain(UNCERTAIN)
            raise ProviderRefused(_refusal_message(status, "generation"))
        data = payload.get("data") if isinstance(payload, dict) else None
        prediction_id = data.get("id") if isinstance(data, dict) else None
        if code != 200 or not isinstance(prediction_id, str) or not prediction_id.strip():
            # A 200 we cannot read: a task may exist, but without its id we cannot follow it.
            log.warning("provider.wavespeed.submit_unreadable")
            raise SubmitUncertain(UNCERTAIN)
        return prediction_id

    # --- result ----------------------------------------------------------------------------------------------

    def result(self, prediction_id: str) -> Prediction:
        if not isinstance(prediction_id, str) or not prediction_id.strip():
            raise ProviderRefused("There is no generation task to look up.")
        url = f"{self.base_url}/api/v3/predictions/{quote(prediction_id, safe='')}/result"
        headers = self._headers()
        waited = 0.0
        for attempt in range(1, self.read_attempts + 1):
            retry_after = None
            try:
                with outbound_session() as session:
                    response = session.get(url, headers=headers, timeout=self.timeout)
                    status, raw = response.status_code, response.content
                retry_after = retry_after_seconds(response.headers)
                transient = self._read_result(prediction_id, status, raw)
                if isinstance(transient, Prediction):
                    return transient
                reason = transient
            except EgressRefused:
                raise
            except OSError as exc:
                kind = transport_failure(exc)
                if not kind:
                    raise ProviderRefused(
                        "The generation service could not be reached with this configuration."
                    ) from exc
                reason = kind
            delay = min(self.backoff_seconds * 2 ** (attempt - 1), self.max_backoff_seconds)
            if retry_after is not None:
                delay = max(delay, retry_after)
            log.info("provider.wavespeed.result_retry", extra={"attempt": attempt, "reason": reason})
            if attempt == self.read_attempts or waited + delay > self.max_total_wait_seconds:
                raise ProviderUnavailable(BUSY, retry_after=retry_after if retry_after is not None else delay)
            self._pause(delay)
            waited += delay
        raise AssertionError("unreachable")  # pragma: no cover

    def _read_result(self, prediction_id: str, status: int, raw: bytes) -> Prediction | str:
        """The prediction, or a short reason when the read is worth repeating. Raises ProviderRefused otherwise."""
        payload = _json_or_none(raw)
        code = _body_code(payload)
        if status == 200 and code not in (None, 200):
            status = code
        if status in (408, 429) or status >= 500:
            return f"HTTP {status}"
        if status != 200:
            log.warning("provider.wavespeed.result_http_error", extra={"status": status})
            if status == 404:
                raise ProviderRefused("The generation service no longer knows this task.")
            raise ProviderRefused(_refusal_message(status, "generation"))
        if payload is None:
            # Not JSON at all (a proxy's error page, a cut-off body): a passing fault more likely than a contract
            # change, and reading again is harmless.
            return "unreadable body"
        if code != 200:
            raise ProviderRefused(UNREADABLE)
        try:
            prediction = parse_prediction(payload.get("data"))
        except ValueError as exc:
            log.warning("provider.wavespeed.result_unreadable", extra={"reason": str(exc)})
            raise ProviderRefused(UNREADABLE) from None
        if prediction.id != prediction_id:
            log.warning("provider.wavespeed.result_unreadable", extra={"reason": "another task's id"})
            raise ProviderRefused(UNREADABLE)
        return prediction

    # --- download --------------------------------------------------------------------------------------------

    def download(self, url: str) -> tuple[bytes, str]:
        if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
            raise ProviderRefused("The generation service gave an output that is not a web link.")
        try:
            with outbound_session() as session, session.get(url, stream=True, timeout=self.timeout) as response:
                status = response.status_code
                if status in (408, 429) or status >= 500:
                    raise ProviderUnavailable(BUSY, retry_after=retry_after_seconds(response.headers))
                if status != 200:
                    log.warning("provider.wavespeed.download_http_error", extra={"status": status})
                    raise ProviderRefused(f"The generated image could not be fetched (HTTP {status}).")
                content_type = (response.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
                if content_type not in IMAGE_MIMES.values():
                    raise ProviderRefused("The generation service sent something that is not a PNG, JPEG or WebP.")
                declared = response.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > self.max_download_bytes:
                    raise ProviderRefused("The generated image is larger than we accept.")
                chunks, total = [], 0
                for chunk in response.iter_content(chunk_size=256 * 1024):
                    total += len(chunk)
                    if total > self.max_download_bytes:
                        raise ProviderRefused("The generated image is larger than we accept.")
                    chunks.append(chunk)
        except (EgressRefused, ProviderRefused, ProviderUnavailable):
            raise
        except OSError as exc:
            if transport_failure(exc):
                raise ProviderUnavailable(BUSY) from exc
            raise ProviderRefused("The generated image could not be fetched.") from exc
        data = b"".join(chunks)
        return data, _image_mime(data)

    # --- webhooks --------------------------------------------------------------------------------------------

    def parse_webhook(self, headers: dict[str, str], body: bytes) -> tuple[str, Prediction]:
        secret = self._webhook_secret or settings.WAVESPEED_WEBHOOK_SECRET
        if not secret:
            raise WebhookRejected("Webhooks are not configured (WAVESPEED_WEBHOOK_SECRET is unset).")
        # Header names in any case; Django's request.headers and request.META spellings both work.
        lowered = {}
        for name, value in dict(headers or {}).items():
            key = str(name).lower().replace("_", "-")
            lowered[key.removeprefix("http-")] = value
        webhook_id = str(lowered.get("webhook-id") or "").strip()
        timestamp = str(lowered.get("webhook-timestamp") or "").strip()
        signatures = str(lowered.get("webhook-signature") or "").strip()
        if not webhook_id or not timestamp or not signatures:
            raise WebhookRejected("A webhook header is missing (webhook-id, webhook-timestamp, webhook-signature).")
        if not _WEBHOOK_ID.match(webhook_id):
            raise WebhookRejected("The webhook-id header is malformed.")
        if not timestamp.isdigit() or len(timestamp) > 12:
            raise WebhookRejected("The webhook-timestamp header is not a Unix time.")
        if abs(self._now() - int(timestamp)) > WEBHOOK_TOLERANCE_SECONDS:
            raise WebhookRejected("The webhook timestamp is outside the 5-minute window.")
        if isinstance(body, str):
            body = body.encode("utf-8")
        key = secret.removeprefix("whsec_").encode("utf-8")
        expected = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + bytes(body), hashlib.sha256).hexdigest()
        verified = False
        for candidate in signatures.split():
            version, _, signature = candidate.partition(",")
            if version == "v3" and hmac.compare_digest(signature.strip().lower().encode(), expected.encode()):
                verified = True
        if not verified:
            raise WebhookRejected("The webhook signature does not match.")
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise WebhookRejected("The webhook body is not JSON.") from None
        try:
            prediction = parse_prediction(data)
        except ValueError as exc:
            raise WebhookRejected(f"The webhook body is not a prediction: {exc}.") from None
        return webhook_id, prediction


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def _body_code(payload: Any) -> int | None:
    if not isinstance(payload, dict) or isinstance(payload.get("code"), bool):
        return None
    code = payload.get("code")
    return code if isinstance(code, int) else None


def _refusal_message(status: int, service: str) -> str:
    if status == 401:
        return f"The {service} service did not accept our credentials (HTTP 401)."
    if status == 402:
        return f"The {service} service account has run out of credit (HTTP 402)."
    if status == 403:
        return f"The {service} service refused the request (HTTP 403)."
    if status == 404:
        return f"The {service} model is not available (HTTP 404)."
    if 400 <= status < 500:
        return f"The {service} service rejected the request (HTTP {status})."
    return f"The {service} service answered unexpectedly (HTTP {status})."


def _image_mime(data: bytes) -> str:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            image_format = image.format
            image.verify()
    except Exception:  # noqa: BLE001 - any decoding failure means "not an image we accept"
        raise ProviderRefused("The generation service sent an image we could not read.") from None
    mime = IMAGE_MIMES.get(image_format or "")
    if not mime:
        raise ProviderRefused("The generation service sent something that is not a PNG, JPEG or WebP.")
    return mime
