"""Staff roles of the privacy work: the privacy officer group (data-rights queue, audit log, policy versions)."""

from __future__ import annotations

PRIVACY_OFFICER_GROUP = "Privacy officer"


def privacy_officer_group_ensure(**_signal_kwargs):
    """Creates the group with every privacy permission; runs after each migrate, so it stays complete as models are
    added. Staff become officers by joining it."""
    from django.contrib.auth.models import Group, Permission
    from django.db.models import Q

    group, _ = Group.objects.get_or_create(name=PRIVACY_OFFICER_GROUP)
    audit_log = Q(content_type__app_label="core", content_type__model="auditevent")
    group.permissions.add(*Permission.objects.filter(Q(content_type__app_label="privacy") | audit_log))
    return group
