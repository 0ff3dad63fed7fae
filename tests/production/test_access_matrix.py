"""Who reaches each production route, on the web and in the API: every cell of routes × roles (logged out, a
customer, the order's owner, a moderator, a reviewer, the workshop member the order is assigned to, a staff member
without a role), checked one by one. A route added to web/production or the API's production router without a row
here fails the coverage test below. Cross-account refusals of the owner's routes are also in the J13 matrix
(tests/privacy/test_clauses.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse

from intaglio.api.routers import production as production_api
from intaglio.production.models import Order
from tests.access import ROLES, every, person, web_routes_of
from tests.factories import make_token
from tests.production import assigned_order, capture_upload, make_worker

pytestmark = pytest.mark.django_db

LOGIN = 302  # the web sends them to sign in
OK, DONE, GONE, CREATED, NO_CREDENTIALS = 200, 302, 404, 201, 401


@dataclass(frozen=True)
class Row:
    surface: str  # "web" (a route name) or "api" (a path under /api/v1)
    route: str
    method: str
    expect: dict[str, int]
    state: str = "submitted"  # the order's state when the request is made
    body: dict | None = None

    @property
    def id(self) -> str:
        return f"{self.surface} {self.method} {self.route} ({self.state})"


OWNER_ONLY = every(GONE, logged_out=LOGIN, owner=OK)
WORKSHOP_ONLY = every(GONE, logged_out=LOGIN, factory=OK)
API_OWNER_ONLY = every(GONE, logged_out=NO_CREDENTIALS, owner=OK)
MATRIX = [
    Row("web", "production-send", "GET", OWNER_ONLY),
    Row("web", "production-send", "POST", every(GONE, logged_out=LOGIN, owner=DONE), body={"note": "Again"}),
    Row("web", "production-orders", "GET", every(OK, logged_out=LOGIN)),  # each sees their own orders only
    Row("web", "production-order", "GET", OWNER_ONLY),
    Row("web", "production-cancel", "POST", every(GONE, logged_out=LOGIN, owner=DONE)),
    Row("web", "workshop-queue", "GET", WORKSHOP_ONLY),
    Row("web", "workshop-order", "GET", WORKSHOP_ONLY),
    Row("web", "workshop-order", "POST", every(GONE, logged_out=LOGIN, factory=DONE), body={"action": "start"}),
    Row("web", "workshop-file", "GET", WORKSHOP_ONLY),
    Row("web", "workshop-capture", "POST", every(GONE, logged_out=LOGIN, factory=DONE), state="in_production",
        body={"photo": "a photo"}),
    Row("api", "/engrave/artworks/{artwork_id}/versions/{number}/production-orders", "POST",
        every(GONE, logged_out=NO_CREDENTIALS, owner=CREATED), body={"note": "Again"}),
    Row("api", "/production/orders", "GET", every(OK, logged_out=NO_CREDENTIALS)),
    Row("api", "/production/orders/{order_number}", "GET", API_OWNER_ONLY),
    Row("api", "/production/orders/{order_number}/cancel", "POST", API_OWNER_ONLY),
    Row("api", "/production/orders/{order_number}/captures", "GET", API_OWNER_ONLY, state="captured"),
]  # fmt: skip


def _web(row: Row, role: str, order: Order, someone):
    client = Client()
    if someone is not None:
        client.force_login(someone)
    version = order.version
    args = {
        "production-send": [version.artwork_id, version.number],
        "production-orders": [],
        "workshop-queue": [],
        "workshop-file": [order.number, "png"],
    }.get(row.route, [order.number])
    url = reverse(row.route, args=args)
    if row.method == "GET":
        return client.get(url)
    body = {**(row.body or {})}
    if "photo" in body:
        body["photo"] = capture_upload()
    return client.post(url, body)


def _api(row: Row, order: Order, someone):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {make_token(someone)}"} if someone is not None else {}
    path = "/api/v1" + row.route.format(
        artwork_id=order.version.artwork_id, number=order.version.number, order_number=order.number
    )
    if row.method == "GET":
        return Client().get(path, **headers)
    return Client().post(path, json.dumps(row.body or {}), content_type="application/json", **headers)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", MATRIX, ids=lambda row: row.id)
def test_every_cell_of_the_production_matrix(row: Row, role: str, user, django_capture_on_commit_callbacks):
    worker = make_worker()
    order = assigned_order(user, worker, state=row.state)
    someone = person(role, user, factory=worker)
    with django_capture_on_commit_callbacks(execute=True):
        response = _web(row, role, order, someone) if row.surface == "web" else _api(row, order, someone)
    assert response.status_code == row.expect[role], (row.id, role, response.content[:200])
    if row.expect[role] == LOGIN and role == "logged_out":
        assert response["Location"].startswith(reverse("login"))
    if role == "owner" and row.surface == "api" and row.route.endswith("/captures"):
        assert [photo["kind"] for photo in response.json()] == ["factory_capture"]


def _web_routes() -> set[str]:
    return web_routes_of("intaglio.web.production.views")


def _api_routes() -> set[tuple[str, str]]:
    return {
        (method, path)
        for path, operations in production_api.router.path_operations.items()
        for operation in operations.operations
        for method in operation.methods
    }


def test_the_matrix_covers_every_production_route_and_every_role():
    """A new production or workshop route (web or API) without a row here fails; so does a row missing a role."""
    web, api = _web_routes(), _api_routes()
    assert web and api, "the production routes were found"
    rows_web = {row.route for row in MATRIX if row.surface == "web"}
    rows_api = {(row.method, row.route) for row in MATRIX if row.surface == "api"}
    assert web - rows_web == set(), "web routes missing from the matrix"
    assert api - rows_api == set(), "API operations missing from the matrix"
    assert rows_web <= web and rows_api <= api, "stale rows"
    assert all(set(row.expect) == set(ROLES) for row in MATRIX)


def test_a_workshop_member_reaches_only_the_orders_assigned_to_them(user):
    """The factory column above is the assigned member; another member of the workshop gets 404 on every order
    route, and the queue shows them nothing of it."""
    order = assigned_order(user, make_worker(), state="in_production")
    other = Client()
    other.force_login(make_worker())
    assert order.number not in other.get(reverse("workshop-queue")).content.decode()
    for name, args in (
        ("workshop-order", [order.number]),
        ("workshop-file", [order.number, "png"]),
    ):
        assert other.get(reverse(name, args=args)).status_code == 404
    assert other.post(reverse("workshop-capture", args=[order.number]), {"photo": capture_upload()}).status_code == 404
    assert other.post(reverse("workshop-order", args=[order.number]), {"action": "done"}).status_code == 404
