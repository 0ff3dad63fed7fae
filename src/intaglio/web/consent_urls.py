"""Privacy pages: consent."""

from django.urls import path

from intaglio.web import consent_views

urlpatterns: list = [
    path("account/privacy/", consent_views.privacy_settings, name="privacy-settings"),
    path("account/privacy/consents/<str:scope>/", consent_views.privacy_consent_set, name="privacy-consent-set"),
    path("account/privacy/gallery/<int:asset_id>/", consent_views.privacy_gallery_set, name="privacy-gallery-set"),
]
