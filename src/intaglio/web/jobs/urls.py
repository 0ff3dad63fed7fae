"""Jobs: the dashboard's live list and each job's page."""

from django.urls import path

from intaglio.web.jobs import views

urlpatterns = [
    path("list/", views.job_list_fragment, name="job-list"),
    path("<int:job_id>/", views.job_detail, name="job-detail"),
    path("<int:job_id>/panel/", views.job_panel, name="job-panel"),
    path("<int:job_id>/cancel/", views.job_cancel, name="job-cancel"),
    path("<int:job_id>/delete/", views.job_delete, name="job-delete"),
]
