import ipaddress
import socket
import time

import pytest
from django.test import Client

from tests import job_kinds  # noqa: F401  registers the test-only job kinds
from tests.factories import PASSWORD, make_token, make_user

_system_getaddrinfo = socket.getaddrinfo


def _numeric_getaddrinfo(host, *args, **kwargs):
    """The suite connects only to IP addresses. A minimal Debian has no /etc/hosts, so even `localhost` depends on
    whatever DNS the machine has; a test that needs a name lookup fails here, on every machine, not just there."""
    name = host.decode() if isinstance(host, bytes) else host
    if name:
        try:
            ipaddress.ip_address(name.strip("[]").split("%")[0])
        except ValueError:
            raise socket.gaierror(
                socket.EAI_NONAME, f"the test suite resolves no host names: connect to 127.0.0.1, not {name!r}"
            ) from None
    return _system_getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _numeric_getaddrinfo


@pytest.fixture(autouse=True, scope="session")
def _light_argon2():
    # Still Argon2, with test-sized work factors: the suite logs in hundreds of times.
    from django.contrib.auth.hashers import Argon2PasswordHasher

    saved = Argon2PasswordHasher.memory_cost, Argon2PasswordHasher.time_cost, Argon2PasswordHasher.parallelism
    Argon2PasswordHasher.memory_cost, Argon2PasswordHasher.time_cost, Argon2PasswordHasher.parallelism = (
        1024,
        1,
        1,
    )
    yield
    Argon2PasswordHasher.memory_cost, Argon2PasswordHasher.time_cost, Argon2PasswordHasher.parallelism = saved


@pytest.fixture(scope="session")
def _rate_limit_file(tmp_path_factory):
    return tmp_path_factory.mktemp("ratelimit") / "ratelimit.bin"


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings, _rate_limit_file, monkeypatch):
    """Every test starts with no rate-limit counts. The database store (PostgreSQL) is reset by each test's
    rollback or flush; the local store is a file of the suite's own, emptied here. The counters' clock stands still
    one second into a day, so no test straddles a window boundary (a test that needs time to pass moves it)."""
    from intaglio.core import ratelimit
    from intaglio.core.ratelimit import LocalCounterStore, rate_store

    today = time.time() // 86400 * 86400
    monkeypatch.setattr(ratelimit, "_clock", lambda: today + 1)
    settings.RATE_LIMIT_FILE = _rate_limit_file
    store = rate_store()
    if isinstance(store, LocalCounterStore):
        store.clear()


@pytest.fixture(autouse=True)
def _private_blob_store(settings, tmp_path):
    """Each test gets its own empty local blob directory, so storage scans see only that test's files."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "blobs"},
        },
    }


@pytest.fixture(autouse=True)
def _no_orphans_after_the_flow(request, _private_blob_store):
    """After every test that touches the database, the storage scan finds no orphan either way: whatever a flow
    stores, deletes or abandons, files and rows stay in step. Tests that make orphans on purpose are marked."""
    uses_db = request.node.get_closest_marker("django_db") or {"db", "transactional_db"} & set(request.fixturenames)
    if not uses_db or request.node.get_closest_marker("leaves_orphans"):
        yield
        return
    request.getfixturevalue("db" if "transactional_db" not in request.fixturenames else "transactional_db")
    yield
    from intaglio.assets.scan import storage_scan

    report = storage_scan()
    assert report.clean, f"orphans after the test: blobs {report.orphan_blobs[:5]}, rows {report.missing_blobs[:5]}"


@pytest.fixture
def user(db):
    return make_user()


@pytest.fixture
def other_user(db):
    return make_user()


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def csrf_client():
    """A browser-like client that enforces CSRF, as real browsers meet it."""
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def token(user):
    return make_token(user)


@pytest.fixture
def stripe_fake(settings):
    """A local Stripe (tests/fakes/stripe.py) wired into settings; its events are delivered by the test."""
    from tests.fakes.stripe import FakeStripe, prices_from_settings

    with FakeStripe(prices=prices_from_settings(settings), deliver=False) as fake:
        settings.STRIPE_API_KEY = fake.api_key
        settings.STRIPE_WEBHOOK_SECRET = fake.webhook_secret
        settings.STRIPE_API_BASE = fake.url
        settings.SUBPROCESSORS = [fake.subprocessor()]
        yield fake
