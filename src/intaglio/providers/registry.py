"""The configured analysis and generation providers, by name (settings.JEWELLERY_ANALYSIS_PROVIDER and
settings.JEWELLERY_GENERATION_PROVIDER): "local" runs here and needs nothing outside; "openrouter" and "wavespeed"
need their API keys. A misconfiguration raises ImproperlyConfigured with what to set, never a silent fallback."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from intaglio.providers.base import AnalysisProvider, GenerationProvider

ANALYSIS_PROVIDERS = ("local", "openrouter")
GENERATION_PROVIDERS = ("local", "wavespeed")


def analysis_provider() -> AnalysisProvider:
    return analysis_provider_named(settings.JEWELLERY_ANALYSIS_PROVIDER)


def generation_provider() -> GenerationProvider:
    return generation_provider_named(settings.JEWELLERY_GENERATION_PROVIDER)


def analysis_provider_named(name: str) -> AnalysisProvider:
    name = (name or "").strip().lower()
    if name == "local":
        from intaglio.providers.local import LocalAnalysis

        return LocalAnalysis()
    if name == "openrouter":
        _require("OPENROUTER_API_KEY", "The OpenRouter analysis provider")
        from intaglio.providers.openrouter import OpenRouterAnalysis

        return OpenRouterAnalysis()
    raise ImproperlyConfigured(
        f"Unknown analysis provider {name!r} (INTAGLIO_ANALYSIS_PROVIDER); "
        f"choose one of {', '.join(ANALYSIS_PROVIDERS)}."
    )


def generation_provider_named(name: str) -> GenerationProvider:
    name = (name or "").strip().lower()
    if name == "local":
        from intaglio.providers.local import LocalGeneration

        return LocalGeneration()
    if name == "wavespeed":
        _require("WAVESPEED_API_KEY", "The WaveSpeed generation provider")
        from intaglio.providers.wavespeed import WaveSpeedGeneration

        return WaveSpeedGeneration()
    raise ImproperlyConfigured(
        f"Unknown generation provider {name!r} (INTAGLIO_GENERATION_PROVIDER); "
        f"choose one of {', '.join(GENERATION_PROVIDERS)}."
    )


def _require(setting: str, what: str) -> None:
    if not str(getattr(settings, setting, "") or "").strip():
        raise ImproperlyConfigured(f"{what} needs an API key: set the {setting} environment variable.")
