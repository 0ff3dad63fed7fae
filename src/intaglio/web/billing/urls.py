"""Pricing (public), Checkout, the Customer Portal and the page Checkout returns to."""

from django.urls import path

from intaglio.web.billing import views

urlpatterns = [
    path("pricing/", views.pricing, name="pricing"),
    path("billing/checkout/<str:product>/", views.checkout, name="billing-checkout"),
    path("billing/portal/", views.portal, name="billing-portal"),
    path("billing/return/", views.checkout_return, name="billing-return"),
]
