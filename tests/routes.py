"""The web routes a views module serves, for the access matrices' coverage tests."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver


def web_routes_of(views_module: str) -> set[str]:
    """The names of every URL pattern whose view lives in `views_module` (e.g. "intaglio.web.gallery.views")."""
    found: set[str] = set()

    def walk(patterns) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern) and pattern.callback.__module__ == views_module:
                found.add(pattern.name)

    walk(get_resolver().url_patterns)
    return found
