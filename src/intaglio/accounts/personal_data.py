"""What accounts holds about a person: the account itself and its API tokens (never their secrets).

Both go with the account row when privacy purges it (API tokens cascade), so there is nothing to erase here.
"""

from __future__ import annotations

from intaglio.core.personal_data import PersonalData, Section, Subject, account_records, kept_with_account, register


def _account_section() -> Section:
    return Section("account", "Your account", *kept_with_account(), "To let you log in and run your account.")


ACCOUNT_FIELDS = (
    "id", "email", "email_verified_at", "date_joined", "last_login", "is_active", "closed_at",
    "content_deleted_at", "restricted", "plan",
)  # fmt: skip
TOKEN_FIELDS = ("name", "prefix", "created_at", "last_used_at", "revoked_at")


def _account_export(subject: Subject) -> list[dict]:
    return account_records(subject, lambda user: [user], ACCOUNT_FIELDS)


def _tokens_section() -> Section:
    return Section(
        "api_tokens",
        "API tokens (names only, never the secret)",
        *kept_with_account(),
        "To let your programs use the API.",
    )


def _tokens_export(subject: Subject) -> list[dict]:
    return account_records(subject, lambda user: user.api_tokens.order_by("pk"), TOKEN_FIELDS)


def declare() -> None:
    register(
        PersonalData(app="accounts", section=_account_section, position=10, export=_account_export),
        PersonalData(app="accounts", section=_tokens_section, position=20, export=_tokens_export),
    )
