"""The registry of personal data: what each app holds about an account, and what each data right does to it.

Each app declares its records in its own `personal_data.py` and registers them from its AppConfig.ready(), as job
kinds are registered. The privacy app, which sits above every other, walks this registry to export (J24, J28),
delete a closed account's content (J21), purge an account (J20, J22) and prune kept records, without importing
the apps' models: what an app holds is that app's business.

One declaration is one section of the export manifest. Its hooks are all optional:

    export(subject)  -> the section's records, JSON-ready dicts
    files(subject)   -> the section's records that carry a stored file (ExportFile); privacy copies each file into
                        the ZIP and adds its "path" to the record
    erase(erasure)   -> deletes the account's content of this kind after closure; returns counts for the audit
                        event ("held_*" counts are what a legal hold kept, not deletions)
    purge(purge)     -> at the account's purge: deletes what content deletion left, or pseudonymises what must be
                        kept (the ledger, J22); returns counts for the audit event
    prune(now)       -> deletes kept (pseudonymised) records once their own retention ends; returns how many

Rows that expire on their own clock (files, measurements) are declared apart, as `Expiring`: the retention
sweeper walks those.

Restriction (J27) is the account's own flag (job_create refuses new work); it changes no stored record, so it has
no hook.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet


@dataclass(frozen=True)
class Section:
    """A group of records in the export, with its retention class and the reason it is held."""

    name: str
    title: str
    retention_class: str
    kept: str  # how long, in plain words
    reason: str  # why it is held
    survives_erasure: bool = False
    # What an erasure keeps is told to the person with this note (only for survives_erasure).
    erasure_note: str = ""

    def describe(self) -> dict:
        return {
            "section": self.name,
            "title": self.title,
            "retention_class": self.retention_class,
            "kept": self.kept,
            "reason": self.reason,
            "survives_erasure": self.survives_erasure,
        }


@dataclass(frozen=True)
class Subject:
    """Whom an export is about: an account (open, closed, or purged and known by its former id) and/or an address."""

    user: Any | None  # the account while its row exists
    user_id: int | None
    email: str
    match_email: bool  # also records filed under the address (the privacy officer's export)
    ref: str | None  # the pseudonym a purged account's kept rows carry (None without a user id)


@dataclass(frozen=True)
class Erasure:
    """Content deletion of one closed account (J21)."""

    user: Any
    now: datetime


@dataclass(frozen=True)
class Purge:
    """The purge of one account (J20): its row goes right after the hooks ran, in the same transaction."""

    user_id: int
    email: str
    ref: str  # the pseudonym rows that must be kept take instead of the user id
    now: datetime


@dataclass(frozen=True)
class ExportFile:
    """A stored file of the subject, and its record in the export."""

    file_id: int
    path: str  # inside the ZIP: files/uploads/… or files/outputs/…
    mime: str
    created_at: datetime
    open: Callable[[], AbstractContextManager[IO[bytes]]]
    record: dict  # the record without "path" (privacy adds it once the copy succeeded)


@dataclass(frozen=True)
class PersonalData:
    """One kind of personal record an app holds: its section of the export and what each data right does to it."""

    app: str
    # Read when asked, because its words quote the retention settings.
    section: Callable[[], Section]
    # Where the section sits in the export manifest; people read it in this order (documented by
    # docs/export-schema.json).
    position: int
    export: Callable[[Subject], list[dict]] | None = None
    files: Callable[[Subject], Iterable[ExportFile]] | None = None
    erase: Callable[[Erasure], dict[str, int]] | None = None
    # Content deletion runs in this order: what owns jobs (artworks) first, then jobs, then the files left, then
    # records that only point at files or at nothing.
    erase_order: int = 0
    purge: Callable[[Purge], dict[str, int]] | None = None
    prune: Callable[[datetime], int] | None = None


_declared: dict[str, PersonalData] = {}


def register(*declarations: PersonalData) -> None:
    """Declares sections; registering a name again replaces it (a reloaded app does no harm)."""
    for declaration in declarations:
        _declared[declaration.section().name] = declaration


def registered() -> list[PersonalData]:
    """Every declaration, in the order of the export manifest."""
    return sorted(_declared.values(), key=lambda declaration: declaration.position)


# ------------------------------------------------------------------------------- shared words and clocks


def kept_with_account() -> tuple[str, str]:
    """(retention class, how long) of records that live as long as the account."""
    closure_days = settings.RETENTION_ACCOUNT_AFTER_CLOSURE_DAYS
    return "account", f"While your account is open, and {closure_days} days after you close it."


def kept_as_content() -> tuple[str, str]:
    """(retention class, how long) of what the person made (J16)."""
    return "account_content", "Until you delete it, or close your account (then deleted within a day)."


def iso(moment: datetime | None) -> str | None:
    """The export's timestamps: UTC, ISO 8601, with a Z."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def records(objects: Iterable, fields: Iterable[str]) -> list[dict]:
    """The export's rows: each object as {field: value} in the order of `fields`; "id" is the primary key and
    times are written as `iso` writes them."""
    fields = tuple(fields)
    return [{name: _exported(obj.pk if name == "id" else getattr(obj, name)) for name in fields} for obj in objects]


def account_records(subject: Subject, rows: Callable[..., Iterable], fields: Iterable[str]) -> list[dict]:
    """`records` of what `rows(user)` gives for the subject's account; none once the account row is gone."""
    return [] if subject.user is None else records(rows(subject.user), fields)


def owned_rows(
    app: str,
    section: Callable[[], Section],
    position: int,
    model,
    fields: Iterable[str],
    *,
    owner: str = "owner",
    order_by: tuple[str, ...] = ("pk",),
    erased_as: str = "",
    **hooks,
) -> PersonalData:
    """The declaration of a model whose rows belong to the account through its `owner` field: exported as
    `records` of `fields`, and, with `erased_as` (the audit event's counter), deleted by the erase step."""

    def export(subject: Subject) -> list[dict]:
        return account_records(subject, lambda user: model.objects.filter(**{owner: user}).order_by(*order_by), fields)

    def erase(erasure: Erasure) -> dict[str, int]:
        return {erased_as: model.objects.filter(**{owner: erasure.user}).delete()[0]}

    return PersonalData(app, section, position, export=export, erase=erase if erased_as else None, **hooks)


def _exported(value):
    return iso(value) if isinstance(value, datetime) else value


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months later (or earlier), clamped to the month's last day:
    31 January + 1 month = 28 (or 29) February."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


# ------------------------------------------------------------------------------------------------------ expiry


@dataclass(frozen=True)
class Swept:
    """What one batch of the retention sweep did to one kind of row."""

    deleted: list[tuple[int, str, datetime]]  # (id, retention class, expires_at), by id
    skipped: list[tuple[int, str, str, datetime | None]]  # (id, retention class, reason, expires_at)
    deleted_at: datetime
    failed: int = 0  # stored files that could not be deleted: their rows stay (skipped as storage_error)


@dataclass(frozen=True)
class Expiring:
    """Rows of one kind that carry expires_at. The privacy app's retention sweeper (E3–E5) takes the expired ones
    in batches, longest overdue first, and records every decision; the owning app says which may go and deletes
    them."""

    item_type: str  # as the sweeper's decisions record it ("asset", "derived_metric")
    counter: str  # its count of deletions in the sweep's result ("deleted_assets")
    order: int  # kinds are swept one after another in this order
    # The querysets to take expired rows from, one after another; the sweeper filters and orders them by
    # (expires_at, pk), so each should be able to use an index on expires_at.
    tables: Callable[[], list[QuerySet]]
    # Locks the rows of these ids, checks each again under the lock, deletes those that may go. It runs inside the
    # sweeper's transaction; `clock()` gives the deletion time.
    sweep: Callable[..., Swept]


_expiring: dict[str, Expiring] = {}


def register_expiring(kind: Expiring) -> Expiring:
    _expiring[kind.item_type] = kind
    return kind


def registered_expiring() -> list[Expiring]:
    return sorted(_expiring.values(), key=lambda kind: kind.order)


def sweep_lock(queryset: QuerySet) -> QuerySet:
    """Row locks for a sweep batch; rows another sweeper holds are left to it (skip_locked) where the database
    can."""
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True)
    return queryset.select_for_update()
