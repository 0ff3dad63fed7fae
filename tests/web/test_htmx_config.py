"""The pages' htmx settings keep to the Content Security Policy, which forbids inline scripts and styles."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_htmx_neither_evaluates_code_nor_writes_inline_styles(client: Client):
    page = client.get("/").content.decode()
    config = json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", page).group(1))
    csp = client.get("/").headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert config["allowEval"] is False and config["includeIndicatorStyles"] is False
    # A swap copies the settled attributes of the old element onto the new one with setAttribute, which the CSP
    # refuses for `style` (a style the page's scripts set through CSSOM would be re-applied as an inline style).
    assert "style" not in config["attributesToSettle"] and "class" in config["attributesToSettle"]
