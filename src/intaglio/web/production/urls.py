"""Production: the owner's orders to the workshop, and the workshop's queue (the factory role)."""

from django.urls import path

from intaglio.web.production import views

urlpatterns: list = [
    path("engrave/<int:artwork_id>/versions/<int:number>/production/", views.production_send, name="production-send"),
    path("production/", views.production_orders, name="production-orders"),
    path("production/<str:number>/", views.production_order, name="production-order"),
    path("production/<str:number>/cancel/", views.production_cancel, name="production-cancel"),
    path("workshop/", views.workshop_queue, name="workshop-queue"),
    path("workshop/<str:number>/", views.workshop_order, name="workshop-order"),
    path("workshop/<str:number>/files/<str:role>", views.workshop_file, name="workshop-file"),
    path("workshop/<str:number>/captures/", views.workshop_capture, name="workshop-capture"),
]
