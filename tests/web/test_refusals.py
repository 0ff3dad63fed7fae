"""The web's one refusal mapping: a message on the next page, or kept for the form with its status."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.http import Http404
from django.test import RequestFactory

from intaglio.core.errors import Refused
from intaglio.web.refusals import refusal_as_message, refusal_kept


def _request():
    request = RequestFactory().post("/")
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def test_a_refusal_becomes_an_error_message_and_skips_the_rest_of_the_block():
    request = _request()
    reached = []
    with refusal_as_message(request):
        raise Refused("plan_limit", "Your plan runs 2 jobs at a time.", status=409)
        reached.append(True)  # pragma: no cover
    assert reached == []
    assert [(m.level_tag, m.message) for m in get_messages(request)] == [("error", "Your plan runs 2 jobs at a time.")]


def test_a_not_yours_refusal_stays_a_404():
    with pytest.raises(Http404), refusal_as_message(_request()):
        raise Refused("not_found", "No such item.", status=404)


def test_nothing_refused_leaves_no_message():
    request = _request()
    with refusal_as_message(request):
        pass
    assert list(get_messages(request)) == []


def test_a_kept_refusal_gives_the_page_its_message_and_status():
    with refusal_kept() as refused:
        raise Refused("insufficient_credits", "You need 4 credits.", status=402)
    assert refused and refused.message == "You need 4 credits." and refused.status == 402

    with refusal_kept() as fine:
        pass
    assert not fine and fine.message == "" and fine.status == 200
