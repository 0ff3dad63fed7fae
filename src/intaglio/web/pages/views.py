"""The privacy notice and the cookie page: public, rendered from live configuration (see intaglio.privacy.notice)."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_safe

from intaglio.privacy.notice import cookie_context, notice_context


@require_safe
def privacy_notice(request):
    return render(request, "web/notice_privacy.html", notice_context())


@require_safe
def cookie_notice(request):
    return render(request, "web/notice_cookies.html", cookie_context())
