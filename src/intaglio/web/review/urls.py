"""Internal review (E13): the reviewers' queue, an item with its verdicts and curation, and the item's file."""

from django.urls import path

from intaglio.web.review import views

urlpatterns: list = [
    path("review/", views.review_queue, name="review-queue"),
    path("review/<int:asset_id>/", views.review_item, name="review-item"),
    path("review/<int:asset_id>/curation/", views.review_curate, name="review-curate"),
    path("review/<int:asset_id>/file", views.review_file, name="review-file"),
]
