"""The one owner-scoped lookup: the owner's object, or a 404 that names what was not found."""

from __future__ import annotations

import pytest
from django.http import Http404

from intaglio.accounts.models import ApiToken
from intaglio.accounts.selectors import api_token_list
from intaglio.core.access import NotOwned, owned
from tests.factories import make_token

pytestmark = pytest.mark.django_db


def test_the_owner_gets_their_object(user):
    make_token(user)
    token = ApiToken.objects.get(user=user)
    assert owned(ApiToken, owner=user, pk=token.pk, owner_field="user") == token
    assert owned(api_token_list(user=user), owner=user, pk=token.pk, owner_field="user") == token


def test_another_accounts_object_is_not_found_with_the_given_words(user, other_user):
    make_token(user)
    token = ApiToken.objects.get(user=user)
    with pytest.raises(NotOwned) as missing:
        owned(ApiToken, owner=other_user, pk=token.pk, owner_field="user", missing="No such token.")
    assert isinstance(missing.value, Http404)
    assert missing.value.message == "No such token."


def test_a_missing_object_says_not_found_by_default(user):
    with pytest.raises(NotOwned) as missing:
        owned(ApiToken, owner=user, pk=999_999, owner_field="user")
    assert missing.value.message == "Not found."
