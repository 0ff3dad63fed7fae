"""The privacy notice and the cookie page, generated from live configuration, and the policy versions behind them.

Nothing on those pages is typed twice: retention periods come from `settings.RETENTION_*`, outside services from the
sub-processor registry (`settings.SUBPROCESSORS`, which also limits outbound HTTP), cookies from `settings.COOKIES`,
consent scopes from `ConsentScope`, the request-log fields from `intaglio.ops.logging.REQUEST_LOG_FIELDS`, and the
version and date from the newest `PolicyVersion`. The purposes we process data for (J6) and the data flows that use
them are declared here as data, so tests can hold every flow to one of the five purposes.

Clauses: E15 (contact route), E16 and J32 (versions, last-updated date, material-change e-mail), J6 (purposes),
J12 (sub-processors), J19 (cookie page), J5 and J23 (technical data, request logs).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from ipaddress import ip_address
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from intaglio.accounts.emails import send_account_email
from intaglio.accounts.models import User
from intaglio.core.audit import audit_record
from intaglio.core.egress import subprocessor_registry
from intaglio.ops.logging import REQUEST_LOG_FIELDS
from intaglio.privacy.models import ConsentScope, PolicyNotification, PolicyVersion

log = logging.getLogger("intaglio.privacy")

# --- Purposes (J6) ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Purpose:
    key: str
    title: str
    description: str


# The only purposes personal data is processed for. Adding one is a change to the notice (and to J6).
PURPOSES: tuple[Purpose, ...] = (
    Purpose(
        "service",
        "Running the service",
        "Storing what you upload, running the jobs you start, keeping your results with the settings that made "
        "them, and keeping your credit balance right.",
    ),
    Purpose(
        "security",
        "Sign-in and security",
        "Checking that it is really you, keeping your session safe and slowing down anyone guessing passwords.",
    ),
    Purpose(
        "messages",
        "Support and service messages",
        "Answering you when you write to us, and e-mailing you about your account: confirmation links, changes "
        "to your address or password, and important changes to this notice.",
    ),
    Purpose(
        "abuse",
        "Abuse monitoring",
        "Noticing misuse, such as floods of requests or attempts to reach files that belong to someone else.",
    ),
    Purpose(
        "legal",
        "Legal obligations",
        "Keeping the records the law asks of us, such as billing records, and answering data-rights requests on time.",
    ),
)
PURPOSE_KEYS = frozenset(purpose.key for purpose in PURPOSES)


@dataclass(frozen=True)
class DataFlow:
    """One kind of personal data we hold: what it is, what we do with it, its one purpose and its retention row."""

    key: str
    data: str
    use: str
    purpose: str  # a key of PURPOSES
    retention: str = ""  # a key of retention_rows(), or "" when we keep nothing after use


DATA_FLOWS: tuple[DataFlow, ...] = (
    DataFlow(
        "account",
        "Your e-mail address and sign-in details",
        "The password is kept only as a one-way Argon2 hash. We ask for nothing else about you: no name, phone "
        "number or postal address.",
        "security",
        "account",
    ),
    DataFlow(
        "session",
        "Your sign-in session",
        "A random session id in a cookie, matched to a record on our server while you stay signed in.",
        "security",
        "session",
    ),
    DataFlow(
        "engrave_upload",
        "Photos you upload to the engrave studio",
        "Used only to run the job you start with them: preparing laser-ready artwork. Workers can read a photo only "
        "through one of your jobs.",
        "service",
        "engrave_upload",
    ),
    DataFlow(
        "engraved_result",
        "Photos of your finished engravings",
        "Lined up with the artwork they came from and measured, to give you better material and machine guidance. "
        "They are used for learning only if you switch that on.",
        "service",
        "engraved_result",
    ),
    DataFlow(
        "derived_metric",
        "Measurements of your engravings (contrast, alignment, quality scores)",
        "Numbers and short labels only, never pictures, kept after the photo is gone only with your consent.",
        "service",
        "derived_metric",
    ),
    DataFlow(
        "jewellery_reference",
        "Reference images for the jewellery studio (CAD renders, sketches, product photos)",
        "Analysed to recognise the piece, its metal and stones, and used to generate new images for you alone.",
        "service",
        "jewellery_content",
    ),
    DataFlow(
        "outputs",
        "Artwork and images we make for you, with the prompt and settings behind each one",
        "Kept so you can download, compare and reuse them.",
        "service",
        "outputs",
    ),
    DataFlow(
        "ledger",
        "Job counts and credit movements",
        "Used to apply your plan's limits and charge correctly. They never contain pictures or prompts.",
        "service",
        "ledger",
    ),
    DataFlow(
        "messages",
        "E-mails we send you",
        "Confirmation links, security notices and news of important changes to this notice. The service keeps no "
        "copy once a message is sent.",
        "messages",
    ),
    DataFlow(
        "request_log",
        "Request log lines",
        "One short line per page or API call; see “Technical data” for exactly what a line holds.",
        "abuse",
        "request_log",
    ),
    DataFlow(
        "sign_in_guard",
        "A one-way digest of your network address after a failed sign-in",
        "Used to slow down password guessing; it is not written to any log.",
        "security",
        "sign_in_guard",
    ),
    DataFlow(
        "consent",
        "Your consent choices and when you made them",
        "Each grant or withdrawal is recorded with the notice version you saw, so we can show what you allowed.",
        "legal",
        "account",
    ),
    DataFlow(
        "data_request",
        "Data-rights requests you send us",
        "Used to answer them, and kept to show that we did.",
        "legal",
        "data_request",
    ),
)

# --- Retention (from settings.RETENTION_*) ---------------------------------------------------------------------


@dataclass(frozen=True)
class RetentionRow:
    key: str
    data: str
    period: str
    detail: str
    settings: tuple[str, ...]  # the settings the period is computed from


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}{'' if count == 1 else 's'}"


def duration_days(days: int) -> str:
    """730 → '2 years', 90 → '90 days', 14 → '14 days'."""
    if days >= 365 and days % 365 == 0:
        return _plural(days // 365, "year")
    return _plural(days, "day")


def duration_hours(hours: int) -> str:
    """48 → '2 days', 24 → '24 hours'."""
    if hours >= 48 and hours % 24 == 0:
        return _plural(hours // 24, "day")
    return _plural(hours, "hour")


def duration_seconds(seconds: int) -> str:
    if seconds >= 86400 and seconds % 86400 == 0:
        days = seconds // 86400
        if days % 364 == 0:  # 52 weeks, Django's CSRF cookie age
            return _plural(days // 364, "year")
        return _plural(days // 7, "week") if days % 7 == 0 else duration_days(days)
    if seconds >= 3600 and seconds % 3600 == 0:
        return duration_hours(seconds // 3600)
    if seconds >= 60 and seconds % 60 == 0:
        return _plural(seconds // 60, "minute")
    return _plural(seconds, "second")


def retention_rows() -> list[RetentionRow]:
    """How long each kind of data is kept, computed from the live settings."""
    s = settings
    closed_content = duration_hours(s.RETENTION_CLOSED_CONTENT_HOURS)
    return [
        RetentionRow(
            "engrave_upload",
            "Photos uploaded to the engrave studio",
            f"{duration_days(s.RETENTION_UPLOAD_AFTER_JOB_DAYS)} after the last job using the photo ends",
            f"A photo that no job uses is deleted after {duration_hours(s.RETENTION_UNATTACHED_UPLOAD_HOURS)}.",
            ("RETENTION_UPLOAD_AFTER_JOB_DAYS", "RETENTION_UNATTACHED_UPLOAD_HOURS"),
        ),
        RetentionRow(
            "engraved_result",
            "Photos of finished engravings",
            f"{duration_days(s.RETENTION_PRIVATE_FEEDBACK_DAYS)}",
            "With learning consent they stay until you withdraw it, then "
            f"{duration_days(s.RETENTION_PRIVATE_FEEDBACK_DAYS)} more.",
            ("RETENTION_PRIVATE_FEEDBACK_DAYS",),
        ),
        RetentionRow(
            "derived_metric",
            "Measurements kept with “measurements only” consent",
            f"{duration_days(s.RETENTION_DERIVED_METRIC_DAYS)}",
            "Deleted at once if you withdraw the consent. Without it they go with the photo.",
            ("RETENTION_DERIVED_METRIC_DAYS",),
        ),
        RetentionRow(
            "jewellery_content",
            "Jewellery reference images",
            "Until you delete the job or close your account",
            f"After closure they are deleted within {closed_content}.",
            ("RETENTION_CLOSED_CONTENT_HOURS",),
        ),
        RetentionRow(
            "outputs",
            "Artwork, generated images and job records",
            "While your account is open, until you delete them",
            f"You can delete any job at any time; after closure everything goes within {closed_content}.",
            ("RETENTION_CLOSED_CONTENT_HOURS",),
        ),
        RetentionRow(
            "gallery",
            "Items you publish in the gallery",
            "Until you unpublish them",
            "Nothing is public unless you publish it yourself.",
            (),
        ),
        RetentionRow(
            "account",
            "Account data (e-mail address, sign-in details, consent history)",
            f"While your account is open, plus {duration_days(s.RETENTION_ACCOUNT_AFTER_CLOSURE_DAYS)} after closure",
            "Closing the account stops sign-in and ends every session straight away.",
            ("RETENTION_ACCOUNT_AFTER_CLOSURE_DAYS",),
        ),
        RetentionRow(
            "session",
            "Sign-in sessions",
            f"Up to {duration_seconds(s.SESSION_COOKIE_AGE)}",
            "Or until you log out, change your password or close the account.",
            ("SESSION_COOKIE_AGE",),
        ),
        RetentionRow(
            "ledger",
            "Credit and billing records",
            f"{duration_days(365 * s.RETENTION_LEDGER_YEARS)}",
            "For billing and audit; the link to you is removed when the account itself is deleted.",
            ("RETENTION_LEDGER_YEARS",),
        ),
        RetentionRow(
            "request_log",
            "Request logs",
            f"{duration_days(s.RETENTION_REQUEST_LOG_DAYS)}",
            "One file per day; each day's file is deleted when it reaches that age.",
            ("RETENTION_REQUEST_LOG_DAYS",),
        ),
        RetentionRow(
            "sign_in_guard",
            "Failed sign-in counters",
            duration_seconds(s.LOGIN_THROTTLE_WINDOW),
            "Only one-way digests of the e-mail address and the network address are kept.",
            ("LOGIN_THROTTLE_WINDOW",),
        ),
        RetentionRow(
            "data_request",
            "Records of data-rights requests",
            f"{duration_days(365 * s.RETENTION_DATA_REQUEST_YEARS)}",
            "So we can show each request was answered.",
            ("RETENTION_DATA_REQUEST_YEARS",),
        ),
    ]


# --- Consent scopes ----------------------------------------------------------------------------------------------

# What switching each scope on allows. Every ConsentScope needs an entry (a test holds this).
CONSENT_SCOPE_DETAILS: dict[str, str] = {
    ConsentScope.DERIVED_ONLY: (
        "Keep measurements of your engravings (contrast, alignment, quality scores) after the photo is deleted, "
        "to improve material and machine guidance. Numbers only: no pictures."
    ),
    ConsentScope.BROAD_LEARNING: (
        "Keep selected engraving pictures as curated examples that improve the guidance for everyone."
    ),
    ConsentScope.ENGRAVED_LEARNING: (
        "Use photos of your finished engravings to improve recommendations. When you switch it off, your photos "
        "are left out of the next learning run."
    ),
    ConsentScope.INTERNAL_REVIEW: (
        "Let our team look at your engraved-result photos (and factory photos of your pieces) to check quality, "
        "styles, materials and machine settings, or to help you. Reviewers can only look, and every look is logged."
    ),
    ConsentScope.GALLERY_PUBLISH: (
        "Show one item you choose in the public gallery. You decide item by item, and unpublishing removes it."
    ),
}


@dataclass(frozen=True)
class ConsentRow:
    scope: str
    label: str
    allows: str


def consent_rows() -> list[ConsentRow]:
    return [ConsentRow(scope.value, scope.label, CONSENT_SCOPE_DETAILS.get(scope.value, "")) for scope in ConsentScope]


# --- Cookies (J18, J19) ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CookieRow:
    name: str
    purpose: str
    lifetime: str
    http_only: bool
    same_site: str
    secure: bool


def cookie_rows() -> list[CookieRow]:
    """settings.COOKIES with each cookie's attributes and lifetime as configured (Django's session and CSRF settings
    for those two; any other entry states its own `lifetime` and may state `http_only`, `same_site` and `secure`)."""
    rows = []
    for entry in settings.COOKIES:
        name = entry["name"]
        lifetime = entry.get("lifetime", "")
        if name == settings.SESSION_COOKIE_NAME:
            http_only, same_site, secure = (
                settings.SESSION_COOKIE_HTTPONLY,
                settings.SESSION_COOKIE_SAMESITE,
                settings.SESSION_COOKIE_SECURE,
            )
            lifetime = (
                "Until you close the browser"
                if settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
                else f"{duration_seconds(settings.SESSION_COOKIE_AGE)}, or until you log out"
            )
        elif name == settings.CSRF_COOKIE_NAME:
            http_only, same_site, secure = (
                settings.CSRF_COOKIE_HTTPONLY,
                settings.CSRF_COOKIE_SAMESITE,
                settings.CSRF_COOKIE_SECURE,
            )
            if settings.CSRF_USE_SESSIONS:
                lifetime = "Kept in the session, not in a cookie of its own"
            elif settings.CSRF_COOKIE_AGE is None:
                lifetime = "Until you close the browser"
            else:
                lifetime = duration_seconds(settings.CSRF_COOKIE_AGE)
        else:
            http_only = entry.get("http_only", True)
            same_site = entry.get("same_site", "Lax")
            secure = entry.get("secure", settings.SESSION_COOKIE_SECURE)
        rows.append(
            CookieRow(
                name=name,
                purpose=entry.get("purpose", ""),
                lifetime=lifetime,
                http_only=bool(http_only),
                same_site=str(same_site or "None"),
                secure=bool(secure),
            )
        )
    return rows


# --- Contact (E15) and links ------------------------------------------------------------------------------------


def privacy_contact_email() -> str:
    """settings.PRIVACY_CONTACT_EMAIL, else privacy@ the public host (or the sender's domain when the public address
    is an IP address or a single-label name such as localhost)."""
    configured = (getattr(settings, "PRIVACY_CONTACT_EMAIL", "") or "").strip()
    if configured:
        return configured
    host = (urlsplit(settings.BASE_URL).hostname or "").lower()
    try:
        ip_address(host)
        host = ""
    except ValueError:
        pass
    if "." not in host:
        sender = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)
        host = sender[1].strip(" >").lower() if len(sender) == 2 else "localhost"
    return f"privacy@{host.removeprefix('www.')}"


def _path(name: str, fallback: str) -> str:
    """The route's path, or the agreed path while the page that serves it is not installed yet."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return fallback


def notice_links() -> dict[str, str]:
    return {
        "notice": _path("privacy-notice", "/privacy/"),
        "cookies": _path("cookie-notice", "/cookies/"),
        "data_rights": _path("data-rights", "/account/data/"),
        "request_form": _path("data-request-form", "/privacy/request/"),
        "account": _path("account", "/account/"),
        "consents": _path("privacy-settings", "/account/privacy/"),
    }


# --- Policy versions (E16, J32) ---------------------------------------------------------------------------------


def policy_versions():
    """Versions in force or past (a version dated in the future is not shown until its date), newest first."""
    return PolicyVersion.objects.filter(published_at__lte=timezone.now()).order_by("-published_at", "-id")


FIRST_VERSION = "1"
FIRST_SUMMARY = "The first published version of this notice."


def policy_current() -> PolicyVersion | None:
    """The version of the notice in force: the one the notice page, the consent page, every consent record and the
    export name. None only before the first version's date (a fresh install publishes it on its first migrate)."""
    return policy_versions().first()


def policy_first_ensure(*, using: str = "default", **_signal_kwargs) -> PolicyVersion | None:
    """Publishes version 1 when no version exists yet; runs after each migrate, so a fresh install has a notice in
    force from the start and every page names it. Not material and e-mailed to nobody: no account predates it."""
    if PolicyVersion.objects.using(using).exists():
        return None
    policy, created = PolicyVersion.objects.using(using).get_or_create(
        version=FIRST_VERSION, defaults={"summary": FIRST_SUMMARY, "material": False}
    )
    if created:
        audit_record(
            action="policy.published", actor=None, actor_role="system", target_type="policy_version",
            target_id=policy.pk, detail={"version": policy.version, "material": False},
        )  # fmt: skip
    return policy


class PolicyPublishError(ValueError):
    """The version cannot be published as given; the message says why and what to do."""


@dataclass(frozen=True)
class PolicyPublishResult:
    policy: PolicyVersion
    created: bool
    emailed: int  # e-mails sent by this call
    failed: int  # accounts whose e-mail could not be sent this time (a later run retries them)
    already_told: int  # accounts told about this version before this call


def policy_publish(
    *, version: str, summary: str, material: bool, published_at: datetime | None = None, actor=None
) -> PolicyPublishResult:
    """Publishes a version of the notice. A material version is e-mailed once to every open account that existed when
    it was published; PolicyNotification (unique per user and version) makes this idempotent, so running the same
    publication again only reaches the accounts a crash or a mail failure left out."""
    version = (version or "").strip()
    summary = (summary or "").strip()
    if not version:
        raise PolicyPublishError("Give the version a name, such as 2025-06 or 1.1.")
    max_length = PolicyVersion._meta.get_field("version").max_length
    if len(version) > max_length:
        raise PolicyPublishError(f"A version name has at most {max_length} characters; “{version}” is longer.")
    if not summary:
        raise PolicyPublishError("Say in a sentence or two what changed: it is shown on the notice and e-mailed.")
    with transaction.atomic():
        policy, created = PolicyVersion.objects.get_or_create(
            version=version,
            defaults={"summary": summary, "material": bool(material), "published_at": published_at or timezone.now()},
        )
        if created:
            audit_record(
                action="policy.published",
                actor=actor,
                actor_role="staff" if actor is not None else "customer",
                target_type="policy_version",
                target_id=policy.pk,
                detail={"version": version, "material": bool(material)},
            )
    if not created and (policy.summary != summary or policy.material != bool(material)):
        raise PolicyPublishError(
            f"Version {version} was already published on {policy.published_at:%Y-%m-%d} with a different summary or "
            "material flag. Published versions do not change: publish a new version instead."
        )
    already_told = PolicyNotification.objects.filter(version=policy).count()
    emailed = failed = 0
    if policy.material:
        emailed, failed = _policy_notify(policy=policy)
    log.info(
        "policy.publish",
        extra={"version": version, "material": policy.material, "new_version": created, "emailed": emailed},
    )
    return PolicyPublishResult(
        policy=policy, created=created, emailed=emailed, failed=failed, already_told=already_told
    )


def _policy_notify(*, policy: PolicyVersion) -> tuple[int, int]:
    """E-mails the version to every open account not yet told. Each e-mail is sent inside the transaction that records
    it, so a failed send leaves no record (the next run retries) and a record is never written without a send."""
    recipients = (
        User.objects.filter(is_active=True, closed_at__isnull=True, date_joined__lte=policy.published_at)
        .exclude(pk__in=PolicyNotification.objects.filter(version=policy).values("user_id"))
        .order_by("pk")
    )
    links = notice_links()
    context = {
        "version": policy.version,
        "summary": policy.summary,
        "published_on": policy.published_at.astimezone(UTC),
        "notice_url": settings.BASE_URL + links["notice"],
        "request_url": settings.BASE_URL + links["request_form"],
        "contact_email": privacy_contact_email(),
    }
    sent = failed = 0
    # Ids first: the loop writes PolicyNotification rows, which the recipients query reads.
    for user_id in list(recipients.values_list("pk", flat=True)):
        user = User.objects.filter(pk=user_id, is_active=True, closed_at__isnull=True).first()
        if user is None:
            continue  # closed while the run went on
        try:
            with transaction.atomic():
                PolicyNotification.objects.create(user=user, version=policy)
                send_account_email(to=user.email, template="policy_changed", context=context)
        except IntegrityError:
            continue  # told by a run going on at the same time
        except Exception:
            failed += 1
            log.warning("policy.notify_failed", extra={"user_id": user.pk, "version": policy.version}, exc_info=True)
            continue
        sent += 1
    return sent, failed


# --- Page contexts ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    id: str
    title: str


NOTICE_SECTIONS: tuple[Section, ...] = (
    Section("summary", "In short"),
    Section("contact", "Who we are and how to reach us"),
    Section("data", "What we hold and why"),
    Section("purposes", "The purposes we use data for"),
    Section("providers", "Outside services we use"),
    Section("learning", "Learning and review: your choice"),
    Section("retention", "How long we keep things"),
    Section("rights", "Your rights"),
    Section("technical", "Technical data and cookies"),
    Section("security", "Security"),
    Section("changes", "Changes to this notice"),
)


@dataclass(frozen=True)
class FlowRow:
    data: str
    use: str
    purpose: Purpose
    retention: RetentionRow | None


def notice_context() -> dict:
    """Everything the privacy notice shows, from the live configuration and the newest policy version."""
    purposes = {purpose.key: purpose for purpose in PURPOSES}
    retention = retention_rows()
    by_key = {row.key: row for row in retention}
    flows = [FlowRow(flow.data, flow.use, purposes[flow.purpose], by_key.get(flow.retention)) for flow in DATA_FLOWS]
    return {
        "policy": policy_current(),
        "versions": list(policy_versions()[:50]),
        "sections": NOTICE_SECTIONS,
        "titles": {section.id: section.title for section in NOTICE_SECTIONS},
        "purposes": PURPOSES,
        "flows": flows,
        "retention": retention,
        "subprocessors": subprocessor_registry(),
        "consents": consent_rows(),
        "cookies": cookie_rows(),
        "request_log_fields": REQUEST_LOG_FIELDS,
        "request_log_days": settings.RETENTION_REQUEST_LOG_DAYS,
        "closed_content": duration_hours(settings.RETENTION_CLOSED_CONTENT_HOURS),
        "after_closure": duration_days(settings.RETENTION_ACCOUNT_AFTER_CLOSURE_DAYS),
        "contact_email": privacy_contact_email(),
        "operator": (getattr(settings, "PRIVACY_OPERATOR", "") or "").strip(),
        "links": notice_links(),
        "answer_days": 30,
        "tls": settings.BASE_URL.startswith("https://"),
        "signed_link": duration_seconds(settings.SIGNED_URL_SECONDS),
    }


def cookie_context() -> dict:
    return {
        "policy": policy_current(),
        "cookies": cookie_rows(),
        "links": notice_links(),
        "contact_email": privacy_contact_email(),
    }
