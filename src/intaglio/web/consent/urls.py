"""Privacy pages: consent."""

from django.urls import path

from intaglio.web.consent import views

urlpatterns: list = [
    path("account/privacy/", views.privacy_settings, name="privacy-settings"),
    path("account/privacy/consents/<str:scope>/", views.privacy_consent_set, name="privacy-consent-set"),
    path("account/privacy/gallery/<int:asset_id>/", views.privacy_gallery_set, name="privacy-gallery-set"),
]
