"""What accounts holds about a person: the account itself and its API tokens (never their secrets).

Both go with the account row when privacy purges it (API tokens cascade), so there is nothing to erase here.
"""

from __future__ import annotations

from intaglio.core.personal_data import PersonalData, Section, Subject, iso, kept_with_account, register


def _account_section() -> Section:
    return Section("account", "Your account", *kept_with_account(), "To let you log in and run your account.")


def _account_export(subject: Subject) -> list[dict]:
    user = subject.user
    if user is None:
        return []
    return [
        {
            "id": user.pk,
            "email": user.email,
            "email_verified_at": iso(user.email_verified_at),
            "date_joined": iso(user.date_joined),
            "last_login": iso(user.last_login),
            "is_active": user.is_active,
            "closed_at": iso(user.closed_at),
            "content_deleted_at": iso(user.content_deleted_at),
            "restricted": user.restricted,
            "plan": user.plan,
        }
    ]


def _tokens_section() -> Section:
    return Section(
        "api_tokens",
        "API tokens (names only, never the secret)",
        *kept_with_account(),
        "To let your programs use the API.",
    )


def _tokens_export(subject: Subject) -> list[dict]:
    if subject.user is None:
        return []
    return [
        {
            "name": t.name,
            "prefix": t.prefix,
            "created_at": iso(t.created_at),
            "last_used_at": iso(t.last_used_at),
            "revoked_at": iso(t.revoked_at),
        }
        for t in subject.user.api_tokens.order_by("pk")
    ]


def declare() -> None:
    register(PersonalData(app="accounts", section=_account_section, position=10, export=_account_export))
    register(PersonalData(app="accounts", section=_tokens_section, position=20, export=_tokens_export))
