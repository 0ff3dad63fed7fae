"""JSON API v1. Every operation documents the shared error responses; see errors.py."""

from __future__ import annotations

from django.conf import settings
from ninja import NinjaAPI

from intaglio.api.auth import BearerToken, BrowserSession
from intaglio.api.errors import BODY_TOO_LARGE, ERROR_STATUSES, ErrorOut, install_error_handlers
from intaglio.api.routers import (
    accounts,
    assets,
    calibration,
    credits,
    engrave,
    gallery,
    jewellery,
    jobs,
    privacy,
    production,
    uploads,
)
from intaglio.api.schemas import ObjectBodyParser
from intaglio.api.throttling import ExactRateThrottle
from intaglio.core.ratelimit import rate_parse


class IntaglioAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs):
        schema = super().get_openapi_schema(**kwargs)
        error_ref = {"$ref": "#/components/schemas/ErrorOut"}
        schema.setdefault("components", {}).setdefault("schemas", {})["ErrorOut"] = ErrorOut.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        for name, definition in (
            ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}").get("$defs", {}).items()
        ):
            schema["components"]["schemas"][name] = definition
        schema["components"]["schemas"]["ErrorOut"].pop("$defs", None)
        for path_item in schema["paths"].values():
            for operation in path_item.values():
                responses = operation.setdefault("responses", {})
                statuses = dict(ERROR_STATUSES)
                if "requestBody" in operation:
                    statuses[413] = BODY_TOO_LARGE
                    for content in operation["requestBody"]["content"].values():
                        content["schema"] = _without_null(content["schema"])
                for parameter in operation.get("parameters", []):
                    parameter["schema"] = _without_null(parameter["schema"])
                for status, description in statuses.items():
                    responses[str(status)] = {
                        "description": description,
                        "content": {"application/json": {"schema": error_ref}},
                    }
                responses["429"]["description"] = _rate_limited_description()
                responses["429"]["headers"] = RATE_LIMITED_HEADERS
        return schema


RATE_LIMITED_HEADERS = {
    "Retry-After": {
        "description": "Seconds until the window ends and requests are counted afresh.",
        "schema": {"type": "integer", "minimum": 1},
    },
    "X-RateLimit-Limit": {"description": "Requests allowed per window.", "schema": {"type": "integer", "minimum": 1}},
    "X-RateLimit-Remaining": {
        "description": "Requests left in this window.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "X-RateLimit-Reset": {"description": "When the window ends, in epoch seconds.", "schema": {"type": "integer"}},
}


def _rate_limited_description() -> str:
    limit, window = rate_parse(settings.API_RATE)
    return (
        f"Too many requests: at most {limit} per {window} s for each token (each session from the web app, each "
        "network address without credentials). Retry after the number of seconds in `Retry-After`."
    )


def _without_null(schema: dict) -> dict:
    """An optional parameter or body is one that may be left out (`required: false`), not one that may be null: the
    server refuses a null body (schemas.ObjectBodyParser), and a header or query value is never null."""
    options = schema.get("anyOf")
    if not options or {"type": "null"} not in options:
        return schema
    rest = [option for option in options if option != {"type": "null"}]
    kept = {key: value for key, value in schema.items() if key != "anyOf"}
    # OpenAPI 3.1 allows keywords beside a $ref, so a lone option is merged with the parameter's description.
    return {**rest[0], **kept} if len(rest) == 1 else {"anyOf": rest, **kept}


api = IntaglioAPI(
    title="Intaglio API",
    version="1",
    description=(
        "Drive Intaglio from scripts and desktop programs. Authenticate with a personal API token "
        "(`Authorization: Bearer itg_…`, created in Account settings) or, from the web app, with the session "
        "cookie plus the `X-CSRFToken` header. Every error has the shape "
        '`{"error": {"code", "message", "details"}, "request_id"}`.'
    ),
    urls_namespace="api-v1",
    auth=[BearerToken(), BrowserSession()],
    throttle=[ExactRateThrottle()],
    parser=ObjectBodyParser(),
)
install_error_handlers(api)
api.add_router("/", accounts.router)
api.add_router("/", uploads.router)
api.add_router("/", jobs.router)
api.add_router("/", assets.router)
api.add_router("/", credits.router)
api.add_router("/", engrave.router)
api.add_router("/", calibration.router)
api.add_router("/", jewellery.router)
api.add_router("/", privacy.router)
api.add_router("/", production.router)
api.add_router("/", gallery.router)
