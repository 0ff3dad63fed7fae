"""Test data builders."""

from __future__ import annotations

import itertools
import re

from django.utils import timezone

from intaglio.accounts import services
from intaglio.accounts.models import User

PASSWORD = "correct horse battery 42"
_counter = itertools.count(1)


def make_user(*, email: str | None = None, password: str = PASSWORD, verified: bool = True, **fields) -> User:
    email = email or f"maker{next(_counter)}@example.com"
    user = User.objects.create_user(email=email, password=password, **fields)
    if verified:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
    return user


def make_token(user: User, name: str = "script") -> str:
    _, raw = services.api_token_create(user=user, name=name)
    return raw


def email_link(message, path_prefix: str) -> str:
    """The path of the first link in an e-mail body whose path starts with path_prefix."""
    match = re.search(r"https?://[^/\s]+(" + re.escape(path_prefix) + r"[^\s]*)", message.body)
    assert match, f"no {path_prefix} link in: {message.body}"
    return match.group(1)


def run_queued_jobs() -> int:
    """Runs everything on the queue in this process with the real worker loop (`jobs.workers.run_queued_here`, as
    `intaglio jewellery batch` does), then returns how many ran."""
    from unittest import mock

    from django.test import override_settings
    from django_tasks_db.management.commands import db_worker

    from intaglio.jobs import runner
    from intaglio.jobs.workers import run_queued_here

    # The worker drops database connections between tasks; inside a test's transaction that would end the test's
    # own connection, so here (and only here) it keeps them.
    # Nor can the lease keeper's own connection see a job made inside the test's transaction (on PostgreSQL), so
    # its first renewal would find no row and call the lease lost: a lease longer than any test job keeps it from
    # renewing at all. (The lease itself is tested in tests/jobs/test_runner.py.)
    with (
        mock.patch.object(db_worker, "close_old_connections", lambda: None),
        mock.patch.object(runner, "close_old_connections", lambda: None),
        override_settings(JOB_LEASE_SECONDS=3600),
    ):
        return run_queued_here()


def jpeg_bytes(width: int = 1200, height: int = 800, color=(180, 120, 60)) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()
