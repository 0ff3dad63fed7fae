"""The community gallery (public list and item pages, reports, the owner's items) and the moderators' queue."""

from django.urls import path

from intaglio.web.gallery import views

urlpatterns: list = [
    path("gallery/", views.gallery_list, name="gallery-list"),
    path("gallery/mine/", views.gallery_mine, name="gallery-mine"),
    path("gallery/mine/<str:public_id>/unpublish/", views.gallery_unpublish, name="gallery-unpublish"),
    path("gallery/<str:public_id>/", views.gallery_item, name="gallery-item"),
    path("gallery/<str:public_id>/pictures/<str:image_id>", views.gallery_picture, name="gallery-picture"),
    path("gallery/<str:public_id>/use/", views.gallery_use, name="gallery-use"),
    path("gallery/<str:public_id>/report/", views.gallery_report, name="gallery-report"),
    path("engrave/<int:artwork_id>/versions/<int:number>/publish/", views.gallery_publish, name="gallery-publish"),
    path("moderation/", views.moderation_queue, name="moderation-queue"),
    path("moderation/<str:public_id>/", views.moderation_item, name="moderation-item"),
]
