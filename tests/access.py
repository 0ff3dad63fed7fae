"""Who reaches what: the people of the access matrices (gallery, review, production) and the routes they cover."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.urls import URLPattern, URLResolver, get_resolver

from intaglio.accounts.roles import Role
from tests.factories import make_user

# Everyone a route may meet: nobody signed in, a customer, the thing's owner, and staff in each role or none.
ROLES = ("logged_out", "customer", "owner", "moderator", "reviewer", "factory", "staff_without_role")


def every(status: int, **overrides: int) -> dict[str, int]:
    """The status each of ROLES gets: `status`, but where `overrides` names the role."""
    return {role: overrides.get(role, status) for role in ROLES}


def make_staff(role: Role | None = None, **fields):
    """A staff member in `role`'s group (None: staff without any role)."""
    user = make_user(is_staff=True, **fields)
    if role is not None:
        group, _ = Group.objects.get_or_create(name=Role(role).label)
        user.groups.add(group)
    return user


def person(role: str, owner, *, factory=None):
    """The user who plays `role` (None for "logged_out"): `owner` for "owner", `factory` (when given) for the
    workshop member, a new user otherwise."""
    if role == "logged_out":
        return None
    if role == "owner":
        return owner
    if role == "factory" and factory is not None:
        return factory
    staff = {"moderator": Role.MODERATOR, "reviewer": Role.REVIEWER, "factory": Role.FACTORY}
    if role in staff:
        return make_staff(staff[role])
    return make_staff() if role == "staff_without_role" else make_user()


def web_routes_of(views_module: str) -> set[str]:
    """The names of every URL pattern whose view lives in `views_module` (e.g. "intaglio.web.gallery.views")."""
    found: set[str] = set()

    def walk(patterns) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern) and pattern.callback.__module__ == views_module:
                found.add(pattern.name)

    walk(get_resolver().url_patterns)
    return found
