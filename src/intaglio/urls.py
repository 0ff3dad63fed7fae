from django.contrib import admin
from django.urls import include, path

from intaglio.api.api import api
from intaglio.assets.views import asset_download, signed_download
from intaglio.ops.views import healthz
from intaglio.web.hooks.views import provider_webhook, stripe_webhook

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("files/<int:asset_id>/", asset_download, name="asset-download"),
    path("files/signed", signed_download, name="signed-download"),
    path("hooks/stripe/", stripe_webhook, name="webhook-stripe"),
    path("hooks/<str:provider>/", provider_webhook, name="webhook-provider"),
    path("", include("intaglio.web.urls")),
]

handler404 = "intaglio.web.errors.not_found"
handler500 = "intaglio.web.errors.server_error"
