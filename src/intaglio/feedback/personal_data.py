"""What feedback holds about a person: the reports on photos of their finished pieces."""

from __future__ import annotations

from django.conf import settings

from intaglio.core.personal_data import Section, owned_rows, register
from intaglio.feedback.models import BurnReport

REPORT_FIELDS = ("id", "version_id", "photo_id", "job_id", "metrics", "advice", "created_at")


def _reports_section() -> Section:
    return Section(
        "burn_reports",
        "How your pieces burned",
        "private_feedback",
        f"As long as the photo: {settings.RETENTION_PRIVATE_FEEDBACK_DAYS} days, or while you let us learn from "
        "photos of your engravings.",
        "To show you how a finished piece compares with its preview.",
    )


def declare() -> None:
    register(
        owned_rows(
            "feedback", _reports_section, 106, BurnReport, REPORT_FIELDS, erased_as="burn_reports", erase_order=5
        )
    )
