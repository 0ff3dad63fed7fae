"""Calibration: test cards, readings of their photos, the maker's calibrations (under /studio/calibrate/)."""

from django.urls import path

from intaglio.web.calibrate import views

urlpatterns = [
    path("", views.calibration_list, name="calibrate-list"),
    path("new/", views.card_new, name="calibrate-card-new"),
    path("cards/<int:card_id>/", views.card_detail, name="calibrate-card"),
    path("cards/<int:card_id>/panel/", views.card_panel, name="calibrate-card-panel"),
    path("cards/<int:card_id>/photo/", views.card_photo, name="calibrate-card-photo"),
    path("readings/<int:reading_id>/", views.reading_detail, name="calibrate-reading"),
    path("readings/<int:reading_id>/panel/", views.reading_panel, name="calibrate-reading-panel"),
    path("readings/<int:reading_id>/save/", views.reading_save, name="calibrate-reading-save"),
    path("readings/<int:reading_id>/verify/", views.reading_verify, name="calibrate-reading-verify"),
    path("profiles/<int:profile_id>/verify-card/", views.card_verify, name="calibrate-verify-card"),
    path("profiles/<int:profile_id>/delete/", views.calibration_delete, name="calibrate-delete"),
    path("guidance/adopt/", views.guidance_adopt, name="calibrate-guidance-adopt"),
]
