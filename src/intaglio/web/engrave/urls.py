"""The engrave studio: artworks, the live preview, preparing versions, the style gallery."""

from django.urls import path

from intaglio.web.engrave import views

urlpatterns = [
    path("", views.artwork_list, name="artwork-list"),
    path("new/", views.artwork_new, name="artwork-new"),
    path("<int:artwork_id>/", views.artwork_studio, name="artwork-studio"),
    path("<int:artwork_id>/preview/", views.artwork_live_preview, name="artwork-preview"),
    path(
        "<int:artwork_id>/photo/<int:source_id>/<int:width>x<int:height>/<str:fit>.jpg",
        views.artwork_photo,
        name="artwork-photo",
    ),
    path("<int:artwork_id>/prepare/", views.artwork_prepare, name="artwork-prepare"),
    path("<int:artwork_id>/versions/", views.artwork_versions, name="artwork-versions"),
    path("<int:artwork_id>/styles/", views.artwork_styles, name="artwork-styles"),
    path("<int:artwork_id>/styles/panel/", views.artwork_styles_panel, name="artwork-styles-panel"),
    path("<int:artwork_id>/styles/use/", views.artwork_use_style, name="artwork-use-style"),
    path("<int:artwork_id>/delete/", views.artwork_delete, name="artwork-delete"),
    path("<int:artwork_id>/rename/", views.artwork_rename, name="artwork-rename"),
    path("<int:artwork_id>/preset/", views.artwork_save_preset, name="artwork-save-preset"),
    path("<int:artwork_id>/versions/<int:number>/burn/", views.version_burn_photo, name="artwork-burn-photo"),
    path("<int:artwork_id>/burns/<int:report_id>/", views.burn_report, name="artwork-burn-report"),
    path("<int:artwork_id>/burns/<int:report_id>/panel/", views.burn_report_panel, name="artwork-burn-panel"),
    path("<int:artwork_id>/burns/<int:report_id>/delete/", views.burn_report_delete, name="artwork-burn-delete"),
]
