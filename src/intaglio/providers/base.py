"""The provider interfaces: analysis (reference images → attributes) and generation (prompt + references → images).

The local providers run here and need nothing outside; the remote ones (OpenRouter, WaveSpeed) speak each
service's documented API through `privacy.egress.outbound_session`, so they reach only registered sub-processors.
Only the fields J8/J9 allow leave: the prompt, short-lived signed image links (or the image bytes as data URLs)
and model options; never an e-mail, a user id or an IP address.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class ProviderError(Exception):
    """A provider call that did not work. The message is safe to show to the user."""

    transient = False


class ProviderUnavailable(ProviderError):
    """Timeouts, connection errors, 5xx and 429 on reads: worth trying again later."""

    transient = True

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class ProviderRefused(ProviderError):
    """A 4xx, a reply that does not match the documented shape, a failed prediction: retrying will not help."""


class SubmitUncertain(ProviderRefused):
    """The submit request may or may not have created a task (timeout, connection dropped, 5xx). Never retried,
    because a second submit could run (and bill) the work twice."""


class RemoteService:
    """What both remote adapters share: key, address, model and timeout come from the settings named
    `<PREFIX>_API_KEY`, `_BASE_URL`, `_MODEL` and `_TIMEOUT_SECONDS`, read at call time so a test's `settings`
    fixture applies; constructor arguments override them."""

    name: str
    settings_prefix: str  # "OPENROUTER"
    role: str  # "The OpenRouter analysis provider", for the configuration error

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        model: str | None = None,
        timeout: float | None = None,
    ):
        self._api_key = api_key
        self._base_url = base_url
        self._model = model
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"<{type(self).__name__} model={self.model!r}>"

    def _setting(self, suffix: str):
        return getattr(settings, f"{self.settings_prefix}_{suffix}")

    @property
    def model(self) -> str:
        return self._model or self._setting("MODEL")

    @property
    def base_url(self) -> str:
        return (self._base_url or self._setting("BASE_URL")).rstrip("/")

    @property
    def timeout(self) -> float:
        return float(self._timeout if self._timeout is not None else self._setting("TIMEOUT_SECONDS"))

    def _headers(self) -> dict[str, str]:
        key = self._api_key or self._setting("API_KEY")
        if not key:
            raise ImproperlyConfigured(f"{self.role} needs {self.settings_prefix}_API_KEY.")
        return {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}


class WebhookRejected(Exception):
    """A webhook delivery that fails verification (signature, timestamp window, shape)."""


#: What a generation provider may be able to stage, the one capability list each declares (`stagings`):
#: "studio" (the piece alone on a plain studio backdrop), "lifestyle" (a styled set), "on_model" (worn by a person),
#: "new_angle" (the piece seen from another angle than its references show).
STAGINGS = ("studio", "lifestyle", "on_model", "new_angle")


@dataclass(frozen=True)
class ReferenceImage:
    # The stored bytes (metadata stripped at upload); empty for a provider that takes only links.
    data: bytes
    mime: str
    # A signed link to the same bytes that expires within 15 minutes, or None when this site is not reachable
    # from the internet (the remote analyser then gets a data URL).
    url: str | None = None


@dataclass(frozen=True)
class GenerationRequest:
    prompt: str
    references: tuple[ReferenceImage, ...]
    aspect_ratio: str  # "1:1", "4:5", "3:4", "2:3", "16:9", "9:16"
    seed: int
    preset: str
    metal: str | None = None  # the metal colour this image shows (the prompt says it too)
    # What the preset stages (one of STAGINGS; a provider refuses one it does not list in `stagings`) and how much
    # closer than a full view it frames the piece; remote providers go by the prompt.
    staging: str = "studio"
    zoom: float = 1.0
    shadow: bool = True  # False: no cast shadow or reflection (a catalogue's shadowless look)


@dataclass(frozen=True)
class Rendered:
    """One image a local provider made. `enlargement`: how much the piece was enlarged from its reference's pixels
    (above 1, the reference was smaller than the output, and fine detail is softer than a larger photo would give)."""

    data: bytes
    mime: str
    enlargement: float = 1.0


@dataclass
class Prediction:
    id: str
    status: str  # created | processing | completed | failed | cancelled | timeout
    outputs: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def finished(self) -> bool:
        return self.status in ("completed", "failed", "cancelled", "timeout")


class AnalysisProvider(Protocol):
    name: str
    model: str

    def analyse(self, images: list[ReferenceImage]) -> dict:
        """Attributes of the piece, validated against providers.attributes.Attributes (returned as a dict)."""


class GenerationProvider(Protocol):
    name: str
    model: str
    asynchronous: bool
    # What it can make, from STAGINGS: the studio offers only presets whose staging is here, and charges nothing
    # for the others.
    stagings: tuple[str, ...]

    # Local, synchronous providers:
    def render(self, request: GenerationRequest) -> Rendered:
        """One image."""

    # Remote, asynchronous providers:
    def submit(self, request: GenerationRequest, *, webhook_url: str | None) -> str:
        """Starts one prediction and returns its id."""

    def result(self, prediction_id: str) -> Prediction: ...

    def download(self, url: str) -> tuple[bytes, str]: ...

    def parse_webhook(self, headers: dict[str, str], body: bytes) -> tuple[str, Prediction]:
        """(delivery id, prediction) of a verified delivery; raises WebhookRejected otherwise."""
