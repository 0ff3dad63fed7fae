"""Staff roles for work on customers' things: each role is a Django group a staff member joins (the admin's
Groups page). A person holds a role only while active, staff and in its group; anyone else asking for a role's
page gets 404, as if it did not exist.

Roles are named here, once, so every app (gallery moderation, internal review, the workshop) asks the same
question the same way: `role_held(user, Role.MODERATOR)`."""

from __future__ import annotations

from django.db import models
from django.http import Http404


class Role(models.TextChoices):
    MODERATOR = "moderator", "Moderator"
    REVIEWER = "reviewer", "Reviewer"
    FACTORY = "factory", "Workshop"


def role_held(user, role: str) -> bool:
    """Whether `user` holds `role` now: active staff in the role's group."""
    if not (getattr(user, "is_authenticated", False) and user.is_active and user.is_staff):
        return False
    return user.groups.filter(name=Role(role).label).exists()


def role_required(user, role: str) -> None:
    """Raises Http404 unless `user` holds `role`: a role's pages do not exist for anyone else."""
    if not role_held(user, role):
        raise Http404("No such page.")


def role_groups_ensure(**_signal_kwargs) -> None:
    """Creates a group per role after each migrate, so a fresh install offers them in the admin."""
    from django.contrib.auth.models import Group

    for role in Role:
        Group.objects.get_or_create(name=role.label)
