"""Precompiled reads (core.hotreads) give the same model instances as the ORM, converters included, on SQLite and
PostgreSQL alike."""

import pytest
from django.utils import timezone

from intaglio.accounts.models import ApiToken, User
from intaglio.core.hotreads import HotRead, selected
from intaglio.jobs.models import Job, JobState

pytestmark = pytest.mark.django_db


def test_a_read_matches_the_orm_field_for_field(user):
    now = timezone.now()
    job = Job.objects.create(
        owner=user,
        kind="preview",
        state=JobState.SUCCEEDED,
        params={"max_side": 1600, "nested": {"list": [1, 2.5, "three"]}, "flag": True},
        progress=100,
        started_at=now,
        finished_at=now,
        cancel_requested=True,
        credits_reserved=3,
    )
    # Named out of the model's order on purpose: the read selects in the model's order.
    fields = selected(Job, "params", "id", "finished_at", "state", "cancel_requested", "credits_reserved")
    read = HotRead(f'SELECT {fields.columns("j")} FROM "{Job._meta.db_table}" j WHERE j."id" = %s', [fields])

    ((made,),) = read.run([job.pk])

    expected = Job.objects.get(pk=job.pk)
    for name in fields.names:
        assert getattr(made, name) == getattr(expected, name), name
    assert isinstance(made.params, dict) and made.params["nested"]["list"] == [1, 2.5, "three"]
    assert made.finished_at.tzinfo is not None
    # What the read did not name stays deferred, as with QuerySet.only.
    assert made.get_deferred_fields() >= {"kind", "progress", "error_detail", "result"}


def test_a_joined_read_makes_one_instance_per_model(user):
    ApiToken.objects.create(user=user, name="t", prefix="itg_x", digest="d" * 64)
    token_fields, user_fields = selected(ApiToken, "id", "last_used_at"), selected(User)
    read = HotRead(
        f'SELECT {token_fields.columns("t")}, {user_fields.columns("u")} FROM "{ApiToken._meta.db_table}" t '
        f'JOIN "{User._meta.db_table}" u ON u."id" = t."user_id" WHERE t."digest" = %s',
        [token_fields, user_fields],
    )

    ((token, owner),) = read.run(["d" * 64])

    assert isinstance(token, ApiToken) and token.last_used_at is None
    assert owner == user and owner.email == user.email and owner.is_active is True
    assert owner.get_deferred_fields() == set()
    assert read.run(["e" * 64]) == []


def test_unknown_fields_are_refused():
    with pytest.raises(ValueError, match="no concrete fields"):
        selected(Job, "owner")  # a foreign key is named by its attname, owner_id
