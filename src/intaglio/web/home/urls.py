"""The landing page, the dashboard and its upload form."""

from django.urls import path

from intaglio.web.home import views

urlpatterns = [
    path("", views.landing, name="landing"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("uploads/", views.upload, name="upload"),
    path("photos/", views.photo_list_fragment, name="photo-list"),
    path("photos/<int:photo_id>/rename/", views.photo_rename, name="photo-rename"),
]
