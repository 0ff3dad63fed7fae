"""Storing a request's files one by one, for the web page and the API alike."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from intaglio.assets.services import UploadRefused, uploads_store
from intaglio.core.errors import Refused


def _file(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"bytes")


def test_each_file_is_stored_in_order_and_a_refused_one_does_not_stop_the_rest():
    def store(*, upload):
        if upload.name == "bad.jpg":
            raise UploadRefused("corrupt_image", "This image is damaged.")
        return f"stored {upload.name}"

    batch = uploads_store(files=[_file("a.jpg"), _file("bad.jpg"), _file("c.jpg")], store=store)

    assert batch.stored == ["stored a.jpg", "stored c.jpg"]
    [(index, name, refusal)] = batch.refused
    assert (index, name, refusal.code, refusal.status) == (1, "bad.jpg", "corrupt_image", 422)


def test_any_refusal_is_noted_whichever_app_refused():
    def store(*, upload):
        raise Refused("plan_limit", "Your plan runs 2 jobs at a time.", status=409)

    batch = uploads_store(files=[_file("a.jpg")], store=store)

    assert batch.stored == []
    assert [(index, name, refusal.status) for index, name, refusal in batch.refused] == [(0, "a.jpg", 409)]


def test_no_files_is_an_empty_batch():
    batch = uploads_store(files=[], store=lambda *, upload: upload)
    assert batch.stored == [] and batch.refused == []
