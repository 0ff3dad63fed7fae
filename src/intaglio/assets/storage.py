"""The blob store: thin helpers over Django's default storage (local directory or any S3-compatible bucket)."""

from __future__ import annotations

from collections.abc import Iterator

from django.core.files.base import ContentFile
from django.core.files.storage import storages

BLOB_PREFIX = "blobs"


def blob_storage():
    return storages["default"]


def blob_write(key: str, data: bytes) -> None:
    saved = blob_storage().save(key, ContentFile(data))
    if saved != key:  # a storage that renames on save would break the key ↔ blob link
        blob_storage().delete(saved)
        raise RuntimeError(f"storage stored {key!r} as {saved!r}")


def blob_open(key: str):
    return blob_storage().open(key, "rb")


def blob_exists(key: str) -> bool:
    return blob_storage().exists(key)


def blob_delete(key: str) -> None:
    """Deleting a blob that is already gone is not an error (deletion is retried and must be idempotent)."""
    blob_storage().delete(key)


def blob_keys() -> Iterator[str]:
    try:
        _dirs, files = blob_storage().listdir(BLOB_PREFIX)
    except FileNotFoundError:  # the local directory does not exist until the first write
        return
    for name in files:
        yield f"{BLOB_PREFIX}/{name}"
