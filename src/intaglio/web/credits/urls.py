"""Credits, plan and storage."""

from django.urls import path

from intaglio.web.credits import views

urlpatterns = [
    path("", views.credits_page, name="credits"),
]
