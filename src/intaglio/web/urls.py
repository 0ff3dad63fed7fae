"""The site's pages, by area: each area's urls.py names its own paths (every path and name as before)."""

from django.urls import include, path

urlpatterns = [
    path("", include("intaglio.web.home.urls")),
    path("", include("intaglio.web.account.urls")),
    path("jobs/", include("intaglio.web.jobs.urls")),
    path("credits/", include("intaglio.web.credits.urls")),
    path("engrave/", include("intaglio.web.engrave.urls")),
    path("engrave/", include("intaglio.web.library.urls")),
    path("studio/calibrate/", include("intaglio.web.calibrate.urls")),
    path("jewellery/", include("intaglio.web.jewellery.urls")),
    path("", include("intaglio.web.consent.urls")),
    path("", include("intaglio.web.rights.urls")),
    path("", include("intaglio.web.pages.urls")),
    path("", include("intaglio.web.billing.urls")),
    path("", include("intaglio.web.gallery.urls")),
    path("", include("intaglio.web.review.urls")),
    path("", include("intaglio.web.production.urls")),
]
