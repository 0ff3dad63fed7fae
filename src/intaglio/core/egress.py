"""Outbound HTTP goes only to registered sub-processors (E2, J7, J12).

`settings.SUBPROCESSORS` is the one registry of outside services that receive personal data. Each entry is a dict:

    {"name": "WaveSpeed AI", "purpose": "Generates jewellery images from your references and prompt",
     "data": "Reference image links (signed, short-lived) and the prompt", "region": "USA",
     "hosts": ["api.wavespeed.ai"]}

`name`, `purpose`, `data` and `region` are shown on the privacy notice; `hosts` (optional) are the only addresses
outbound requests may reach for that service. A host is a name (`api.example.com`, any port), a name with a port
(`api.example.com:8443`), or a wildcard for subdomains (`*.r2.cloudflarestorage.com`).

Provider adapters make their requests through `outbound_session()`: its transport checks every request, redirects
included, and raises `EgressRefused` before any connection (or DNS lookup) to a host that is not registered.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_REQUIRED_FIELDS = ("name", "purpose", "data", "region")
_LOOPBACK_NAMES = {"localhost"}


class EgressRefused(Exception):
    """A request to a host that is not in the sub-processor registry. Permanent: retrying cannot help."""


@dataclass(frozen=True)
class Subprocessor:
    name: str
    purpose: str
    data: str
    region: str
    hosts: tuple[str, ...]


def subprocessor_registry() -> list[Subprocessor]:
    """The registry from settings, checked: a malformed entry is a configuration error, not a silent gap."""
    entries = settings.SUBPROCESSORS or []
    if not isinstance(entries, list | tuple):
        raise ImproperlyConfigured("SUBPROCESSORS must be a list of dicts")
    registry = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ImproperlyConfigured(f"SUBPROCESSORS[{index}] must be a dict, got {type(entry).__name__}")
        missing = [key for key in _REQUIRED_FIELDS if not str(entry.get(key) or "").strip()]
        if missing:
            raise ImproperlyConfigured(f"SUBPROCESSORS[{index}] lacks {', '.join(missing)}")
        hosts = entry.get("hosts") or []
        if isinstance(hosts, str) or not all(isinstance(host, str) and host.strip() for host in hosts):
            raise ImproperlyConfigured(f"SUBPROCESSORS[{index}]['hosts'] must be a list of host names")
        registry.append(
            Subprocessor(
                name=str(entry["name"]).strip(),
                purpose=str(entry["purpose"]).strip(),
                data=str(entry["data"]).strip(),
                region=str(entry["region"]).strip(),
                hosts=tuple(_normalise_host_entry(host) for host in hosts),
            )
        )
    return registry


def outbound_hosts() -> tuple[str, ...]:
    """Every host outbound requests may reach, from the registry (sorted, without duplicates)."""
    return tuple(sorted({host for processor in subprocessor_registry() for host in processor.hosts}))


def _normalise_host_entry(entry: str) -> str:
    return entry.strip().lower().rstrip(".")


def _split_entry(entry: str) -> tuple[str, int | None]:
    if entry.startswith("*."):
        return entry, None
    parts = urlsplit(f"//{entry}")
    try:
        port = parts.port
    except ValueError as exc:
        raise ImproperlyConfigured(f"SUBPROCESSORS host {entry!r} has an invalid port") from exc
    return (parts.hostname or "").rstrip("."), port


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_outbound_url(url: str) -> None:
    """Raises EgressRefused unless `url` may be fetched: a registered host, over https (plain http only to loopback)."""
    parts = urlsplit(url)
    scheme = (parts.scheme or "").lower()
    host = (parts.hostname or "").rstrip(".").lower()
    if scheme not in ("http", "https") or not host:
        raise EgressRefused(f"Outbound request refused: {url.split('?', 1)[0]!r} is not an http(s) address.")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise EgressRefused(f"Outbound request refused: {host!r} has an invalid port.") from exc
    for entry in outbound_hosts():
        entry_host, entry_port = _split_entry(entry)
        if entry_host.startswith("*."):
            matched = host.endswith(entry_host[1:])
        else:
            matched = host == entry_host and (entry_port is None or entry_port == port)
        if matched:
            if scheme == "http" and not _is_loopback(host):
                raise EgressRefused(
                    f"Outbound request refused: {host} is registered, but only over https (data in transit uses TLS)."
                )
            return
    raise EgressRefused(
        f"Outbound request refused: {host}:{port} is not a registered sub-processor host. "
        "Add the service, with its hosts, to settings.SUBPROCESSORS (it then appears on the privacy notice)."
    )


def outbound_session():
    """A requests.Session whose every request (and every redirect) must go to a registered sub-processor host.

    Proxies from the environment are ignored (`trust_env` off) and explicit proxies are refused, so the connection is
    made to the checked host itself."""
    import requests
    from requests.adapters import HTTPAdapter

    class RegisteredHostsAdapter(HTTPAdapter):
        def send(self, request, **kwargs):
            check_outbound_url(request.url)
            if any((kwargs.get("proxies") or {}).values()):
                raise EgressRefused("Outbound request refused: proxies are not allowed for sub-processor calls.")
            return super().send(request, **kwargs)

    session = requests.Session()
    session.trust_env = False
    adapter = RegisteredHostsAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
