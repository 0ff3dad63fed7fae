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
