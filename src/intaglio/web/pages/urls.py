"""Public pages: the privacy notice, the cookie page and the site icon."""

from django.templatetags.static import static
from django.urls import path
from django.views.generic import RedirectView

from intaglio.web.pages import views

urlpatterns = [
    # Browsers, bookmarks and feed readers ask for /favicon.ico whatever the page declares.
    path("favicon.ico", RedirectView.as_view(url=static("web/favicon.svg"), permanent=True)),
    path("privacy/", views.privacy_notice, name="privacy-notice"),
    path("cookies/", views.cookie_notice, name="cookie-notice"),
]
