"""The account and its API tokens."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from intaglio.accounts import selectors, services
from intaglio.api.errors import ApiError
from intaglio.api.pagination import Paginated
from intaglio.api.schemas import StrictIn

router = Router(tags=["account"])


class AccountOut(Schema):
    id: int
    email: str
    email_verified: bool
    date_joined: datetime


class TokenOut(Schema):
    id: int
    name: str
    prefix: str = Field(description="The token's first characters, to recognise it by.")
    created_at: datetime
    last_used_at: datetime | None


class TokenIn(StrictIn):
    # At least one visible character: what the service keeps after trimming spaces and control characters.
    name: str = Field(
        min_length=1, max_length=80, pattern=r"[^\s\x00-\x1f\x7f]", description="What will use the token."
    )


class TokenCreatedOut(TokenOut):
    token: str = Field(description="The secret. Shown only in this response; store it now.")


@router.get("/me", response=AccountOut, summary="The account these credentials belong to")
def me(request):
    return request.auth


@router.get("/tokens", response=list[TokenOut], summary="List active API tokens")
@paginate(Paginated)
def list_tokens(request):
    return selectors.api_token_list(user=request.auth)


@router.post("/tokens", response={201: TokenCreatedOut}, summary="Create an API token (the secret is shown once)")
def create_token(request, payload: TokenIn):
    try:
        token, raw = services.api_token_create(user=request.auth, name=payload.name)
    except DjangoValidationError as error:
        raise ApiError(422, "validation_error", " ".join(error.messages)) from None
    return Status(201, {**TokenOut.model_validate(token).model_dump(), "token": raw})


@router.delete("/tokens/{token_id}", response={204: None}, summary="Revoke an API token")
def revoke_token(request, token_id: int):
    if not services.api_token_revoke(user=request.auth, token_id=token_id):
        raise ApiError(404, "not_found", "No such token.")
    return Status(204, None)
