"""The header's links to the staff work queues, shown only to the people holding each role."""

from __future__ import annotations

from django import template
from django.urls import reverse

from intaglio.accounts.roles import Role, role_held

register = template.Library()

# Each role's queue: (url name, link text). A role without a queue here has no header link.
ROLE_QUEUES: dict[str, tuple[str, str]] = {
    Role.MODERATOR: ("moderation-queue", "Moderation"),
    Role.REVIEWER: ("review-queue", "Review"),
    Role.FACTORY: ("workshop-queue", "Workshop"),
}


@register.simple_tag
def role_queue_links(user) -> list[tuple[str, str]]:
    """(url, text) of the queues `user` works; none for anyone without a role (customers cost no query)."""
    if not getattr(user, "is_staff", False):
        return []
    return [(reverse(name), text) for role, (name, text) in ROLE_QUEUES.items() if role_held(user, role)]
