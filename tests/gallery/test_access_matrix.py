"""Who reaches each gallery and moderation route: every cell of routes × roles (logged out, a customer, the item's
owner, a moderator, a reviewer, the workshop, a staff member without any of those roles), checked one by one. A
route added to web/gallery without a row here fails the coverage test below. Cross-account refusals of the owner's
routes are also in the J13 matrix (tests/privacy/test_clauses.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse

from intaglio.gallery import services
from intaglio.gallery.models import GalleryItem, ModerationState
from tests.access import ROLES, every, person, web_routes_of
from tests.gallery import finished_version

pytestmark = pytest.mark.django_db

LOGIN = 302  # sent to sign in
OK, DONE, GONE = 200, 302, 404


@dataclass(frozen=True)
class Row:
    route: str
    method: str
    args: str  # "" | "item" | "item+picture" | "version"
    expect: dict[str, int]
    state: str = "visible"  # or "hidden": a moderator hid the item
    body: dict | None = None

    @property
    def id(self) -> str:
        return f"{self.method} {self.route} ({self.state})"


MODERATORS_ONLY = every(GONE, logged_out=LOGIN, moderator=OK)
MATRIX = [
    Row("gallery-list", "GET", "", every(OK)),
    Row("gallery-item", "GET", "item", every(OK)),
    Row("gallery-item", "GET", "item", every(GONE, owner=OK, moderator=OK), state="hidden"),
    Row("gallery-picture", "GET", "item+picture", every(OK)),
    Row("gallery-picture", "GET", "item+picture", every(GONE, owner=OK, moderator=OK), state="hidden"),
    Row("gallery-use", "GET", "item", every(OK, logged_out=LOGIN)),
    Row("gallery-use", "GET", "item", every(GONE, logged_out=LOGIN, owner=OK, moderator=OK), state="hidden"),
    Row("gallery-report", "GET", "item", every(OK, logged_out=LOGIN)),
    # The owner is answered with the form again and a message: one's own item is unpublished, not reported.
    Row("gallery-report", "POST", "item", every(DONE, owner=OK), body={"reason": "offensive"}),
    Row("gallery-mine", "GET", "", every(OK, logged_out=LOGIN)),
    Row("gallery-unpublish", "POST", "item", every(GONE, logged_out=LOGIN, owner=DONE)),
    Row("gallery-publish", "GET", "version", every(GONE, logged_out=LOGIN, owner=OK)),
    Row("gallery-publish", "POST", "version", every(GONE, logged_out=LOGIN, owner=DONE), body={"title": "Again"}),
    Row("moderation-queue", "GET", "", MODERATORS_ONLY),
    Row("moderation-item", "GET", "item", MODERATORS_ONLY),
    Row("moderation-item", "POST", "item", every(GONE, logged_out=LOGIN, moderator=DONE),
        body={"action": "hide", "note": "Checked."}),
]  # fmt: skip


def _client(role: str, owner) -> Client:
    client = Client()
    if (someone := person(role, owner)) is not None:
        client.force_login(someone)
    return client


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", MATRIX, ids=lambda row: row.id)
def test_every_cell_of_the_gallery_matrix(row: Row, role: str, user):
    version = finished_version(user)
    item = services.gallery_publish(owner=user, version=version, title="Rex on slate")
    if row.state == "hidden":
        GalleryItem.objects.filter(pk=item.pk).update(moderation=ModerationState.HIDDEN)
    if row.route == "gallery-publish":
        version = finished_version(user)  # a version not yet published, so the owner's POST can succeed
    args = {
        "": [],
        "item": [item.public_id],
        "item+picture": [item.public_id, item.images.first().public_id],
        "version": [version.artwork_id, version.number],
    }[row.args]
    client = _client(role, user)
    url = reverse(row.route, args=args)
    response = client.get(url) if row.method == "GET" else client.post(url, row.body or {})
    assert response.status_code == row.expect[role], (row.id, role)
    if row.expect[role] == LOGIN and role == "logged_out":
        assert response["Location"].startswith(reverse("login"))


def _gallery_routes() -> set[str]:
    return web_routes_of("intaglio.web.gallery.views")


def test_the_matrix_covers_every_gallery_route_and_every_role():
    """A new gallery or moderation route without a row here fails; so does a row missing a role."""
    routes = _gallery_routes()
    assert routes, "the gallery's routes were found"
    assert routes - {row.route for row in MATRIX} == set(), "gallery routes missing from the matrix"
    assert {row.route for row in MATRIX} <= routes, "stale rows"
    assert all(set(row.expect) == set(ROLES) for row in MATRIX)


# ------------------------------------------------------------------------------------------------------------ API


@dataclass(frozen=True)
class ApiRow:
    method: str
    path: str  # the OpenAPI path
    expect: dict[str, int]
    state: str = "visible"

    @property
    def id(self) -> str:
        return f"{self.method} {self.path} ({self.state})"


UNAUTHENTICATED = 401
API_MATRIX = [
    ApiRow("GET", "/api/v1/gallery/items", every(OK)),
    ApiRow("GET", "/api/v1/gallery/items/{public_id}", every(OK)),
    # The API is the public's view: a hidden item is gone for everyone there (its owner sees it on the web page).
    ApiRow("GET", "/api/v1/gallery/items/{public_id}", every(GONE), state="hidden"),
    ApiRow("POST", "/api/v1/gallery/items", every(GONE, logged_out=UNAUTHENTICATED, owner=201)),
    ApiRow("DELETE", "/api/v1/gallery/items/{public_id}", every(GONE, logged_out=UNAUTHENTICATED, owner=204)),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", API_MATRIX, ids=lambda row: row.id)
def test_every_cell_of_the_gallery_api_matrix(row: ApiRow, role: str, user):
    from tests.factories import make_token

    item = services.gallery_publish(owner=user, version=finished_version(user), title="Rex on slate")
    if row.state == "hidden":
        GalleryItem.objects.filter(pk=item.pk).update(moderation=ModerationState.HIDDEN)
    someone = person(role, user)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {make_token(someone)}"} if someone is not None else {}
    path = row.path.replace("{public_id}", item.public_id)
    if row.method == "POST":
        version = finished_version(user)  # not yet published, so the owner's POST can succeed
        body = {"artwork_id": version.artwork_id, "version": version.number, "title": "Again"}
        response = Client().post(path, body, content_type="application/json", **headers)
    else:
        response = getattr(Client(), row.method.lower())(path, **headers)
    assert response.status_code == row.expect[role], (row.id, role, response.content[:200])


def test_the_api_matrix_covers_every_gallery_operation():
    from intaglio.api.api import api

    paths = api.get_openapi_schema()["paths"]
    operations = {(m.upper(), p) for p, item in paths.items() if p.startswith("/api/v1/gallery") for m in item}
    assert operations, "the gallery's operations were found"
    assert operations == {(row.method, row.path) for row in API_MATRIX}
    assert all(set(row.expect) == set(ROLES) for row in API_MATRIX)
