"""Asset writes: turning an upload into a stored, metadata-free Asset; signed links; deleting blobs."""

from __future__ import annotations

import base64
import logging
import os
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import PurePath
from typing import Generic, TypeVar
from urllib.parse import urlencode

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from intaglio.assets.models import Asset, AssetKind, RetentionClass
from intaglio.assets.names import file_stem, title_clean, title_from_file_name
from intaglio.assets.selectors import storage_used_bytes
from intaglio.assets.storage import blob_delete, blob_write
from intaglio.core.errors import Refused
from intaglio.imaging import IngestError, IngestLimits, file_size_label, ingest_image

log = logging.getLogger("intaglio.assets")

_SIGNING_SALT = "intaglio.assets.signed-download"
# A signed link's sealed claims: asset id and expiry (ms since the epoch), then the storage key's tail.
_LINK_CLAIMS = struct.Struct(">QQ")

# HTTP status for each rejection code (the API answers with these; the web page shows the message).
REFUSAL_STATUS = {
    "empty_file": 422,
    "too_large": 413,
    "unsupported_type": 415,
    "corrupt_image": 422,
    "too_many_pixels": 422,
    "too_much_memory": 422,
    "decompression_bomb": 422,
    "busy": 503,
    "quota_exceeded": 403,
    "too_many_files": 413,
    "invalid_title": 422,
}


class UploadRefused(Refused):
    """An upload we will not store."""

    statuses = REFUSAL_STATUS


def storage_room_check(*, owner, needed: int, what: str) -> None:
    """Raises UploadRefused (quota_exceeded) unless `needed` more bytes fit in the owner's plan. Call it inside the
    transaction that saves the new rows: it locks the owner's row, so two parallel writes cannot both squeeze under
    the quota."""
    get_user_model().objects.select_for_update().filter(pk=owner.pk).first()
    quota = settings.PLANS[owner.plan]["storage_mb"] * 1024 * 1024
    used = storage_used_bytes(owner=owner)
    if used + needed > quota:
        raise UploadRefused(
            "quota_exceeded",
            f"Your storage is full: {file_size_label(used)} of {file_size_label(quota)} used, and {what} needs "
            f"{file_size_label(needed)}. Delete some jobs to make room.",
        )


def upload_limits(*, owner) -> IngestLimits:
    plan = settings.PLANS[owner.plan]
    return IngestLimits(
        max_bytes=settings.UPLOAD_MAX_BYTES,
        max_pixels=min(settings.UPLOAD_MAX_PIXELS, int(plan["max_image_mp"] * 1_000_000)),
    )


def asset_ingest_upload(*, owner, upload, kind: str = AssetKind.SOURCE_PHOTO) -> Asset:
    """Checks, cleans and stores one uploaded image; raises UploadRefused with a specific message otherwise."""
    if getattr(upload, "too_large", False):
        raise UploadRefused(
            "too_large",
            f"This file is larger than the {file_size_label(settings.UPLOAD_MAX_BYTES)} limit for one upload.",
        )
    limits = upload_limits(owner=owner)
    try:
        image = ingest_image(upload, limits=limits)
    except IngestError as refusal:
        message = refusal.message
        if refusal.code == "too_many_pixels" and limits.max_pixels < settings.UPLOAD_MAX_PIXELS:
            message += f" Your plan accepts images up to {limits.max_pixels / 1e6:.0f} megapixels."
        raise UploadRefused(refusal.code, message, detail=refusal.detail) from None

    # The file's own name (cleaned) is the photo's title and names its downloads; a nameless upload gets the time.
    title = title_from_file_name(getattr(upload, "name", "")) or f"photo-{timezone.now():%Y%m%d-%H%M%S}"
    asset = Asset(
        owner=owner,
        kind=kind,
        title=title,
        mime=image.mime,
        sha256=image.sha256,
        bytes=len(image.data),
        width=image.width,
        height=image.height,
        download_name=f"{file_stem(title)}.{image.format.replace('jpeg', 'jpg')}",
        retention_class=RetentionClass.PRIVATE_UPLOAD,
        expires_at=timezone.now() + timedelta(hours=settings.RETENTION_UNATTACHED_UPLOAD_HOURS),
    )
    # The blob goes first, outside any lock; the quota check and the row are one locked transaction so two
    # parallel uploads cannot both squeeze under the quota.
    blob_write(asset.storage_key, image.data)
    try:
        with transaction.atomic():
            storage_room_check(owner=owner, needed=asset.bytes, what="this photo")
            asset.save()
    except BaseException:
        blob_delete(asset.storage_key)
        raise
    log.info("asset.stored", extra={"asset_id": asset.pk, "bytes": asset.bytes, "source_format": image.source_format})
    return asset


def asset_rename(*, asset: Asset, title: str) -> Asset:
    """Renames an upload: its title, and the name its downloads (and files made from it later) are offered under."""
    title = title_clean(title)
    if not title:
        raise UploadRefused("invalid_title", "Give the photo a name.")
    extension = PurePath(asset.download_name).suffix
    asset.title = title
    asset.download_name = f"{file_stem(title)}{extension}"
    asset.save(update_fields=["title", "download_name"])
    return asset


T = TypeVar("T")


@dataclass
class UploadBatch(Generic[T]):
    """What became of a request's files: what storing each gave, in order, and each refused file with why."""

    stored: list[T] = field(default_factory=list)
    # (the file's position among the files sent, from 0; its name; the refusal)
    refused: list[tuple[int, str, Refused]] = field(default_factory=list)


def uploads_store(*, files, store: Callable[..., T]) -> UploadBatch[T]:
    """Stores the files one by one with `store(upload=…)`: a refused file is noted and the others still go in.

    The web page and the API both upload photos through this, with `store` storing the file and starting its
    preview job (jobs.services.upload_photo); the caller passes it because a job is a layer above the files."""
    batch: UploadBatch[T] = UploadBatch()
    for index, upload in enumerate(files):
        try:
            batch.stored.append(store(upload=upload))
        except Refused as refusal:
            batch.refused.append((index, upload.name, refusal))
    return batch


def asset_delete_blobs(keys: list[str]) -> int:
    """Deletes blobs whose rows are already gone; returns how many failed (the storage scan reports those)."""
    failed = 0
    for key in keys:
        try:
            blob_delete(key)
        except Exception:
            failed += 1
            log.exception("asset.blob_delete_failed", extra={"storage_key": key})
    return failed


def _link_keys() -> list[bytes]:
    """AES-256 keys for signed links, derived from SECRET_KEY (then each of SECRET_KEY_FALLBACKS, so links made
    before a key rotation keep working until they expire)."""
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return [salted_hmac(_SIGNING_SALT, "aes-256-gcm", secret=key, algorithm="sha256").digest() for key in keys]


def asset_signed_token(*, asset: Asset, seconds: int | None = None) -> str:
    """An opaque token for the asset: AES-GCM over (id, expiry, key tail), so it reads as random bytes and any change
    to it is refused. A fresh nonce each time: two links to one file never look alike."""
    ttl = settings.SIGNED_URL_SECONDS if seconds is None else seconds
    # The key's tail binds the token to this very blob, so a reused row id can never serve another file.
    # The expiry is in milliseconds: whole seconds cut up to one second off a short link's promised life.
    expires_ms = int((time.time() + ttl) * 1000)
    claims = _LINK_CLAIMS.pack(asset.pk, expires_ms) + asset.storage_key[-12:].encode()
    nonce = os.urandom(12)
    sealed = AESGCM(_link_keys()[0]).encrypt(nonce, claims, _SIGNING_SALT.encode())
    return base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()


def asset_signed_url(*, asset: Asset, seconds: int | None = None, download: bool = False) -> str:
    """An absolute link anyone may use until it expires (default SIGNED_URL_SECONDS)."""
    query = urlencode(
        {"t": asset_signed_token(asset=asset, seconds=seconds), **({"download": "1"} if download else {})}
    )
    return f"{settings.BASE_URL}{reverse('signed-download')}?{query}"


def asset_from_signed_token(token: str) -> Asset | None:
    """The asset a valid, unexpired token names; None for anything else."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        return None
    claims = None
    for key in _link_keys():
        try:
            claims = AESGCM(key).decrypt(raw[:12], raw[12:], _SIGNING_SALT.encode())
            break
        except (InvalidTag, ValueError):
            continue
    if claims is None or len(claims) < _LINK_CLAIMS.size:
        return None
    asset_id, expires_ms = _LINK_CLAIMS.unpack_from(claims)
    if expires_ms < time.time() * 1000:
        return None
    asset = Asset.objects.filter(pk=asset_id).first()
    if asset is None or asset.storage_key[-12:].encode() != claims[_LINK_CLAIMS.size :]:
        return None
    return asset
