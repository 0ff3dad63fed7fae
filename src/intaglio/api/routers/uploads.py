"""Uploading photos: each stored file starts a preview job."""

from __future__ import annotations

from functools import partial

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFilesSent
from django.http import JsonResponse
from django.http.multipartparser import MultiPartParserError
from ninja import Field, Router, Schema, Status
from ninja.errors import ValidationError

from intaglio.api.errors import ApiError, ErrorOut
from intaglio.api.routers.jobs import JobOut
from intaglio.assets.services import UploadRefused, uploads_store
from intaglio.assets.uploads import check_file_count, check_upload_request, unreadable_upload_refusal
from intaglio.core.errors import error_body
from intaglio.jobs import services

router = Router(tags=["uploads"])


class RefusedFileOut(Schema):
    file_index: int = Field(description="The file's position among the request's `files` parts, from 0.")
    code: str = Field(
        description="unsupported_type, empty_file, too_large, corrupt_image, too_many_pixels, decompression_bomb, "
        "quota_exceeded, insufficient_credits or plan_limit."
    )
    message: str = Field(description="Why, written to be shown to the person who sent the file.")


class UploadOut(Schema):
    jobs: list[JobOut] = Field(description="One preview job per stored file, in the order the files were sent.")
    refused: list[RefusedFileOut] = Field(description="The files that were not stored, and why.")


ACCEPTED_MEDIA_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic", "image/heif", "image/tiff")


def _upload_body() -> dict:
    return {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "files": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "minItems": 1,
                            "description": (
                                f"JPEG, PNG, WebP, HEIC or TIFF photos; up to {settings.UPLOAD_MAX_FILES} files of "
                                f"up to {settings.UPLOAD_MAX_BYTES // (1024 * 1024)} MB each per request."
                            ),
                        }
                    },
                    "required": ["files"],
                    "additionalProperties": False,
                },
                # The types a file is accepted as: judged by its content (magic bytes), not by this header.
                "encoding": {"files": {"contentType": ", ".join(ACCEPTED_MEDIA_TYPES)}},
            }
        },
    }


def _request_files(request, fields: tuple[str, ...] = ()) -> list:
    """The `files` parts, after refusing an oversized request from its headers alone, and a part that is neither
    `files` nor one of `fields` (the operation's form fields), as every JSON body refuses an unknown field."""
    check_upload_request(request)
    try:
        files = request.FILES.getlist("files")
        unknown = sorted((set(request.POST) | set(request.FILES)) - {"files", *fields})
    except TooManyFilesSent:
        raise UploadRefused("too_many_files", f"Upload at most {settings.UPLOAD_MAX_FILES} files at a time.") from None
    except RequestDataTooBig:
        raise UploadRefused("too_large", "The form fields sent beside the files are too large.") from None
    except (MultiPartParserError, SuspiciousOperation) as unreadable:
        raise unreadable_upload_refusal(unreadable) or ApiError(
            400, "bad_request", "the multipart body is malformed"
        ) from None
    check_file_count(files)
    if unknown:
        raise ValidationError(
            [
                {"loc": ("body", name), "msg": "Extra inputs are not permitted", "type": "extra_forbidden"}
                for name in unknown
            ]
        )
    return files


@router.post(
    "/uploads",
    # 403 and 422 are documented on every operation (see api.py); adding them here would repeat them.
    response={201: UploadOut, 402: ErrorOut, 409: ErrorOut, 413: ErrorOut, 415: ErrorOut, 503: ErrorOut},
    openapi_extra={"requestBody": _upload_body()},
    summary="Upload photos (each starts a preview job)",
    description=(
        "Send one or more photos as `multipart/form-data` parts named `files`. Each photo is checked, cleaned of "
        "its metadata and stored, and a `preview` job makes its web-size preview and thumbnail; poll "
        "`GET /jobs/{id}`.\n\n"
        "Files are judged one by one. When at least one is stored the answer is **201** with the new jobs and, in "
        "`refused`, each file that was not stored with its `code` and `message`. When none is stored the answer "
        "is an error with the first refused file's status and code, and `details` lists every file "
        '(`loc: ["files", index]`, `type`: the code).\n\n'
        "Statuses: 413 `too_large` (a file or the whole request) or `too_many_files`; 415 `unsupported_type`; "
        "422 `empty_file` (also: no `files` part), `corrupt_image`, `too_many_pixels`, `too_much_memory` (decoding "
        "it would need more memory than the server gives one image) or `decompression_bomb`; "
        "403 `quota_exceeded` (your plan's storage is full); 402 `insufficient_credits`; 409 `plan_limit` "
        "(too many jobs in progress for your plan); 503 `busy` (other large images are being opened; try again)."
    ),
)
def upload(request):
    batch = uploads_store(files=_request_files(request), store=partial(services.upload_photo, owner=request.auth))
    if batch.stored:
        refused = [
            {"file_index": index, "code": refusal.code, "message": refusal.message}
            for index, _, refusal in batch.refused
        ]
        return Status(201, {"jobs": batch.stored, "refused": refused})
    return refused_files_answer(request, batch.refused)


def refused_files_answer(request, refused: list) -> JsonResponse:
    """The error when no file of a batch was stored: the first file's status and code, every file in `details`.
    `refused` holds (position from 0, name, refusal) per file, as UploadBatch.refused."""
    _, _, first = refused[0]
    message = first.message
    if len(refused) > 1:
        message = f"None of the {len(refused)} files was stored; `details` says why for each. The first: {message}"
    details = [{"loc": ["files", index], "msg": refusal.message, "type": refusal.code} for index, _, refusal in refused]
    # Answered directly: the status varies (402–422) and the shared ones are not in this operation's `response`.
    return JsonResponse(error_body(request, code=first.code, message=message, details=details), status=first.status)
