"""Who reaches each internal-review route: every cell of routes × roles (logged out, a customer, the photo's owner,
a moderator, a reviewer, the workshop, a staff member without a role), checked one by one, for an item in the queue
and for the same item once its owner withdrew `internal_review`. A route added to web/review without a row here
fails the coverage test below."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse

from tests.access import ROLES, every, person, web_routes_of
from tests.review import BROAD, REVIEW, allow, burn_photo, withdraw

pytestmark = pytest.mark.django_db

LOGIN = 302  # sent to sign in
OK, DONE, GONE = 200, 302, 404


@dataclass(frozen=True)
class Row:
    route: str
    method: str
    args: str  # "" | "item"
    expect: dict[str, int]
    state: str = "allowed"  # or "withdrawn": the owner withdrew internal_review
    body: dict | None = None

    @property
    def id(self) -> str:
        return f"{self.method} {self.route} ({self.state})"


REVIEWERS_ONLY = every(GONE, logged_out=LOGIN, reviewer=OK)
NOBODY = every(GONE, logged_out=LOGIN)
VERDICT = {"style_valid": "1", "material_valid": "1", "settings_valid": "0", "note": "Checked."}
MATRIX = [
    Row("review-queue", "GET", "", REVIEWERS_ONLY),
    Row("review-item", "GET", "item", REVIEWERS_ONLY),
    Row("review-item", "GET", "item", NOBODY, state="withdrawn"),
    Row("review-item", "POST", "item", every(GONE, logged_out=LOGIN, reviewer=DONE), body=VERDICT),
    Row("review-item", "POST", "item", NOBODY, state="withdrawn", body=VERDICT),
    Row("review-curate", "POST", "item", every(GONE, logged_out=LOGIN, reviewer=DONE), body={"curated": "1"}),
    Row("review-curate", "POST", "item", NOBODY, state="withdrawn", body={"curated": "1"}),
    Row("review-file", "GET", "item", REVIEWERS_ONLY),
    Row("review-file", "GET", "item", NOBODY, state="withdrawn"),
]  # fmt: skip


def _client(role: str, owner) -> Client:
    client = Client()
    if (someone := person(role, owner)) is not None:
        client.force_login(someone)
    return client


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", MATRIX, ids=lambda row: row.id)
def test_every_cell_of_the_review_matrix(row: Row, role: str, user):
    allow(user, REVIEW, BROAD)
    photo = burn_photo(user)
    if row.state == "withdrawn":
        withdraw(user, REVIEW)
    args = {"": [], "item": [photo.pk]}[row.args]
    client = _client(role, user)
    url = reverse(row.route, args=args)
    response = client.get(url) if row.method == "GET" else client.post(url, row.body or {})
    assert response.status_code == row.expect[role], (row.id, role)
    if row.expect[role] == LOGIN and role == "logged_out":
        assert response["Location"].startswith(reverse("login"))
    if row.expect[role] == GONE:
        photo.refresh_from_db()
        assert not photo.curated and not photo.review_verdicts.exists()


def _review_routes() -> set[str]:
    return web_routes_of("intaglio.web.review.views")


def test_the_matrix_covers_every_review_route_and_every_role():
    """A new review route without a row here fails; so does a row missing a role."""
    routes = _review_routes()
    assert routes, "the review routes were found"
    assert routes - {row.route for row in MATRIX} == set(), "review routes missing from the matrix"
    assert {row.route for row in MATRIX} <= routes, "stale rows"
    assert all(set(row.expect) == set(ROLES) for row in MATRIX)
