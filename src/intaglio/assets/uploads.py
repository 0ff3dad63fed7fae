"""Upload handling that never buffers more than the byte limit of any one file.

Django hands each chunk of a multipart body to the handler as it arrives. Chunks beyond the limit are counted
and dropped, so a 2 GB upload costs 2 GB of reading but never 2 GB of memory or disk; the service then refuses
it with a clear message. A request whose declared length exceeds every file limit combined is refused before
its body is read at all.
"""

from __future__ import annotations

import io
import tempfile

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict

# Room for multipart boundaries and headers around the files of one request.
_MULTIPART_OVERHEAD = 1024 * 1024
# The longest file name an upload may carry (what common file systems allow).
FILE_NAME_MAX = 255
# What Django's multipart parser says when a part's headers pass its 1 KiB: in practice a very long file name.
_PART_HEADERS_TOO_LARGE = "Request max total header size exceeded."


def request_body_limit() -> int:
    return settings.UPLOAD_MAX_FILES * settings.UPLOAD_MAX_BYTES + _MULTIPART_OVERHEAD


class CappedUpload(UploadedFile):
    """An uploaded file holding at most UPLOAD_MAX_BYTES; `too_large` says more was sent, `name_too_long` that its
    name was longer than FILE_NAME_MAX (Django would cut it to 255 characters silently)."""

    def __init__(self, file, *, name, content_type, size, too_large, name_too_long=False):
        super().__init__(file, name=name, content_type=content_type, size=size)
        self.too_large = too_large
        self.name_too_long = name_too_long


class CappedUploadHandler(FileUploadHandler):
    def new_file(self, field_name, file_name, content_type, content_length, charset=None, content_type_extra=None):
        super().new_file(field_name, file_name, content_type, content_length, charset, content_type_extra)
        self.received = 0
        self.too_large = False
        # Small files stay in memory; larger ones spill to a private temporary file.
        self.spool = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)  # noqa: SIM115 - closed with the request

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length and content_length > request_body_limit():
            # Parse nothing and read nothing: the request arrives with no files, and the view refuses it from
            # its Content-Length (check_upload_request) with a clear message instead of an error page.
            return QueryDict(encoding=encoding), MultiValueDict()
        return None

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.UPLOAD_MAX_BYTES:
            self.too_large = True
            return None
        self.spool.write(raw_data)
        return None

    def file_complete(self, file_size):
        if self.too_large:
            self.spool.close()
            self.spool = io.BytesIO()
        self.spool.seek(0)
        return CappedUpload(
            self.spool,
            name=self.file_name,
            content_type=self.content_type,
            size=self.received,
            too_large=self.too_large,
            name_too_long=len(self.file_name or "") > FILE_NAME_MAX,
        )


def check_upload_request(request) -> None:
    """Refuses an upload request from its headers alone, before any of its body is read."""
    from intaglio.assets.services import UploadRefused

    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > request_body_limit():
        raise UploadRefused("too_large", too_large_message(declared))


def too_large_message(size: int, *, streaming: bool = False) -> str:
    """Why a request body of `size` bytes is refused (`streaming`: counted so far, its length was not declared)."""
    amount = f"more than {size / (1024 * 1024):.0f} MB" if streaming else f"{size / (1024 * 1024):.0f} MB"
    return (
        f"This upload is {amount}. Send at most {settings.UPLOAD_MAX_FILES} files of up "
        f"to {settings.UPLOAD_MAX_BYTES // (1024 * 1024)} MB each at a time."
    )


def _name_too_long():
    from intaglio.assets.services import UploadRefused

    return UploadRefused("name_too_long", f"The file name is too long: at most {FILE_NAME_MAX} characters.")


def unreadable_upload_refusal(error: Exception):
    """The refusal to answer a multipart body Django could not read with, when its cause is known, else None.

    A part whose headers pass Django's 1 KiB limit is one with a file name of hundreds of characters; saying so
    beats calling the body malformed."""
    return _name_too_long() if str(error) == _PART_HEADERS_TOO_LARGE else None


def check_file_count(files: list) -> None:
    """Refuses a request with no file, too many files, or a file whose name is longer than FILE_NAME_MAX."""
    from intaglio.assets.services import UploadRefused

    if not files:
        raise UploadRefused("empty_file", "Choose at least one photo to upload.")
    if len(files) > settings.UPLOAD_MAX_FILES:
        raise UploadRefused(
            "too_many_files", f"Upload at most {settings.UPLOAD_MAX_FILES} files at a time; you sent {len(files)}."
        )
    if any(getattr(upload, "name_too_long", False) for upload in files):
        raise _name_too_long()
