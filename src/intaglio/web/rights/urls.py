"""Privacy pages: rights (J24–J29, E15)."""

from django.urls import path

from intaglio.web.rights import views

urlpatterns = [
    path("account/data/", views.data_rights, name="data-rights"),
    path("account/data/export/", views.data_rights_export, name="data-rights-export"),
    path("account/data/restrict/", views.data_rights_restrict, name="data-rights-restrict"),
    path("account/data/ask/", views.data_rights_ask, name="data-rights-ask"),
    path("account/data/erase/", views.data_rights_erase, name="data-rights-erase"),
    path("account/data/erased/", views.data_rights_erased, name="data-rights-erased"),
    path("privacy/request/", views.data_request_form, name="data-request-form"),
    path("privacy/request/code/", views.data_request_verify, name="data-request-verify"),
    path("privacy/request/sent/", views.data_request_done, name="data-request-done"),
]
