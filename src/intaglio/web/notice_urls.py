"""Privacy pages: the privacy notice and the cookie page, both public."""

from django.urls import path

from intaglio.web import notice_views

urlpatterns = [
    path("privacy/", notice_views.privacy_notice, name="privacy-notice"),
    path("cookies/", notice_views.cookie_notice, name="cookie-notice"),
]
