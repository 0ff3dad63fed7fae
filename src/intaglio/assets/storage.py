"""The blob store: thin helpers over Django's default storage (local directory or any S3-compatible bucket)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from django.core.files.base import ContentFile
from django.core.files.storage import storages

BLOB_PREFIX = "blobs"
# An S3 DeleteObjects request takes at most this many keys.
S3_DELETE_BATCH = 1000

log = logging.getLogger("intaglio.assets")


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


def blob_delete_many(keys: list[str]) -> set[str]:
    """Deletes many blobs and returns the keys that could not be deleted (an already missing blob counts as
    deleted). On an S3 bucket it is one DeleteObjects request per 1,000 keys instead of a request per blob.
    Only storage errors are caught: an interruption (a killed process) propagates."""
    storage = blob_storage()
    if keys and getattr(storage, "bucket_name", None):
        return _s3_delete_many(storage, keys)
    failed = set()
    for key in keys:
        try:
            blob_delete(key)
        except Exception:
            log.warning("blob.delete_failed", extra={"key": key}, exc_info=True)
            failed.add(key)
    return failed


def _s3_delete_many(storage, keys: list[str]) -> set[str]:
    from storages.utils import clean_name

    failed = set()
    for start in range(0, len(keys), S3_DELETE_BATCH):
        chunk = keys[start : start + S3_DELETE_BATCH]
        by_name = {storage._normalize_name(clean_name(key)): key for key in chunk}
        try:
            answer = storage.bucket.meta.client.delete_objects(
                Bucket=storage.bucket_name, Delete={"Objects": [{"Key": name} for name in by_name], "Quiet": True}
            )
        except Exception:
            log.warning("blob.delete_many_failed", extra={"keys": len(chunk)}, exc_info=True)
            failed.update(chunk)
            continue
        failed.update(by_name.get(error["Key"], error["Key"]) for error in answer.get("Errors", []))
    return failed


def blob_keys() -> Iterator[str]:
    try:
        _dirs, files = blob_storage().listdir(BLOB_PREFIX)
    except FileNotFoundError:  # the local directory does not exist until the first write
        return
    for name in files:
        yield f"{BLOB_PREFIX}/{name}"
