"""The header links each staff member to the queues of the roles they hold, and nobody else."""

from __future__ import annotations

import pytest
from django.test import Client

from intaglio.accounts.roles import Role
from tests.factories import make_user
from tests.review import make_staff

pytestmark = pytest.mark.django_db

QUEUES = {"/moderation/": "Moderation", "/review/": "Review", "/workshop/": "Workshop"}


def header_queues(user) -> set[str]:
    client = Client()
    client.force_login(user)
    page = client.get("/engrave/").content.decode()
    header = page.split("</header>")[0]
    return {path for path, text in QUEUES.items() if f'href="{path}"' in header and f">{text}<" in header}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.MODERATOR, {"/moderation/"}),
        (Role.REVIEWER, {"/review/"}),
        (Role.FACTORY, {"/workshop/"}),
        (None, set()),
    ],
)
def test_each_role_holder_sees_the_link_to_their_own_queue_only(role, expected):
    assert header_queues(make_staff(role)) == expected


def test_a_customer_sees_no_staff_queue():
    assert header_queues(make_user()) == set()
