"""The API's rate limit is exact under concurrency, per token (per session in the web app), answers with
GitHub-style headers, and counts without writing to the database."""

import threading

import pytest
from django.db import connection, connections
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from intaglio.core import ratelimit
from tests.factories import make_token, make_user

pytestmark = pytest.mark.django_db


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.mark.django_db(transaction=True)
@override_settings(API_RATE="20/h")
def test_fifty_parallel_clients_on_one_token_get_exactly_the_limit():
    token = make_token(make_user())
    # The first use records when the token was last used; after it every call below only reads.
    assert Client().get("/api/v1/me", **bearer(token)).status_code == 200
    start, statuses, lock = threading.Barrier(50), [], threading.Lock()

    def poll():
        try:
            client = Client()
            start.wait()
            for _ in range(2):
                status = client.get("/api/v1/me", **bearer(token)).status_code
                with lock:
                    statuses.append(status)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=poll) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(statuses) == 100
    assert statuses.count(200) == 19  # 20 in the hour, one of them spent above
    assert statuses.count(429) == 81


@override_settings(API_RATE="5/h")
def test_each_token_of_one_user_has_its_own_budget(client):
    user = make_user()
    first, second = make_token(user, "laptop"), make_token(user, "workshop PC")
    assert [client.get("/api/v1/me", **bearer(first)).status_code for _ in range(6)] == [200] * 5 + [429]
    assert [client.get("/api/v1/me", **bearer(second)).status_code for _ in range(6)] == [200] * 5 + [429]


@override_settings(API_RATE="3/h")
def test_each_browser_session_has_its_own_budget():
    user = make_user()
    for _ in range(2):
        browser = Client()
        browser.force_login(user)
        assert [browser.get("/api/v1/me").status_code for _ in range(4)] == [200] * 3 + [429]


@override_settings(API_RATE="3/m")
def test_answers_carry_the_rate_limit_headers(client, token):
    answers = [client.get("/api/v1/me", **bearer(token)) for _ in range(4)]
    assert [a["X-RateLimit-Limit"] for a in answers] == ["3"] * 4
    assert [a["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    resets = {int(a["X-RateLimit-Reset"]) for a in answers}
    now = ratelimit._clock()
    assert len(resets) == 1 and now < resets.pop() <= now + 60
    refused = answers[-1]
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert "Retry-After" not in answers[0]


def test_a_read_request_writes_nothing_to_the_database(client, token):
    client.get("/api/v1/me", **bearer(token))  # records the token's first use
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert client.get("/api/v1/jobs", **bearer(token)).status_code == 200
    writes = [q["sql"] for q in queries if q["sql"].lstrip().split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}]
    if connection.vendor == "postgresql":
        # The counter table is the store there, shared by every web process: one upsert per request, nothing else.
        assert len(writes) == 3 and all("core_ratecounter" in sql for sql in writes)
    else:
        assert writes == []
