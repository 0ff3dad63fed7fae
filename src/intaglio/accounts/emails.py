"""Account e-mails: one template pair (subject, body) per message under templates/accounts/email/."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string


def send_account_email(*, to: str, template: str, context: dict) -> None:
    context = {"base_url": settings.BASE_URL, **context}
    subject = render_to_string(f"accounts/email/{template}_subject.txt", context).strip()
    body = render_to_string(f"accounts/email/{template}_body.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to])
