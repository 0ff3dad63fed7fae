"""Account e-mails: one template pair (subject, body) per message under templates/accounts/email/."""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from intaglio.core.ratelimit import rate_hit

log = logging.getLogger("intaglio.security")

# Messages anyone can make us send by typing an address (sign-up, verification, address change, reset, sign-in
# link); they share a per-address hourly cap so nobody can flood an inbox. Notices of the owner's own changes
# (password changed, address changed, closure) are not capped.
CAPPED_TEMPLATES = frozenset({"verify", "already_registered", "email_change", "sign_in_link"})


def account_email_allowed(*, to: str) -> bool:
    """Counts one requested e-mail to `to`; False once the address has had EMAILS_PER_ADDRESS_PER_HOUR this hour.

    The caller answers the same either way, so the cap reveals nothing about the address.
    """
    subject = hashlib.sha256(to.strip().lower().encode()).hexdigest()[:24]
    hit = rate_hit(f"mail:{subject}", limit=settings.EMAILS_PER_ADDRESS_PER_HOUR, window=3600)
    if not hit.allowed:
        log.warning("email.capped", extra={"subject": subject, "retry_after": hit.retry_after()})
    return hit.allowed


def send_account_email(*, to: str, template: str, context: dict) -> None:
    if template in CAPPED_TEMPLATES and not account_email_allowed(to=to):
        return
    context = {"base_url": settings.BASE_URL, **context}
    subject = render_to_string(f"accounts/email/{template}_subject.txt", context).strip()
    body = render_to_string(f"accounts/email/{template}_body.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to])
