"""A signed link's token is opaque: it carries no readable asset id, storage key or expiry, and any change to it, or
a key it was not sealed with, makes it worthless."""

import base64
import re
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from intaglio.assets.services import asset_from_signed_token, asset_ingest_upload, asset_signed_token
from tests.factories import jpeg_bytes, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def asset():
    upload = SimpleUploadedFile("portrait.jpg", jpeg_bytes(64, 48), content_type="image/jpeg")
    return asset_ingest_upload(owner=make_user(), upload=upload)


def _decoded(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def test_a_token_reveals_nothing(asset, settings):
    settings.SIGNED_URL_SECONDS = 600
    token = asset_signed_token(asset=asset)
    expires = int(time.time()) + 600
    raw = _decoded(token)
    # Neither the token nor its bytes hold the key's tail, the expiry (in s or ms) or the id's JSON/claims form.
    for readable in (token, raw.decode("latin-1")):
        assert asset.storage_key[-12:] not in readable
        assert asset.storage_key[-6:] not in readable
        assert str(expires)[:8] not in readable
    # (Markers of at least 3 bytes: a single "{" turns up in ~60 random bytes one time in five.)
    for marker in (b'"a"', b'"k"', b'"e"', b'":' + str(asset.pk).encode(), b"%d," % asset.pk + b'"'):
        assert marker not in raw
    # No readable text at all: a 16-character run of printable ASCII in ~60 random bytes has odds of about 1 in 10⁵.
    assert not re.search(rb"[\x20-\x7e]{16,}", raw)
    # Sealed afresh each time: two tokens for the same file and expiry share nothing.
    assert asset_signed_token(asset=asset) != token
    assert asset_from_signed_token(token) == asset


def test_a_changed_token_is_worthless(asset):
    token = asset_signed_token(asset=asset)
    raw = bytearray(_decoded(token))
    for position in (0, 12, len(raw) // 2, len(raw) - 1):
        changed = bytearray(raw)
        changed[position] ^= 1
        assert asset_from_signed_token(base64.urlsafe_b64encode(bytes(changed)).decode()) is None
    for junk in ("", "x", "not-base64!!", token[:-4], token + "AAAA"):
        assert asset_from_signed_token(junk) is None


def test_a_token_survives_a_key_rotation_but_not_another_key(asset, settings):
    token = asset_signed_token(asset=asset)
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-key-" + "x" * 50, [old_key]
    assert asset_from_signed_token(token) == asset
    settings.SECRET_KEY_FALLBACKS = []
    assert asset_from_signed_token(token) is None


def test_an_expired_token_is_worthless(asset):
    token = asset_signed_token(asset=asset, seconds=-1)
    assert asset_from_signed_token(token) is None
