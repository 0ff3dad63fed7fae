"""The jewellery studio: pieces, their analysis, the prompt preview, generations."""

from django.urls import path

from intaglio.web.jewellery import views

urlpatterns = [
    path("", views.piece_list, name="jewellery-list"),
    path("new/", views.piece_new, name="jewellery-new"),
    path("<int:piece_id>/", views.piece_page, name="jewellery-piece"),
    path("<int:piece_id>/references/", views.piece_references, name="jewellery-references"),
    path("<int:piece_id>/attributes/", views.piece_attributes, name="jewellery-attributes"),
    path("<int:piece_id>/analyse/", views.piece_retry_analysis, name="jewellery-reanalyse"),
    path("<int:piece_id>/confirm/", views.piece_confirm_attributes, name="jewellery-confirm"),
    path("<int:piece_id>/prompt/", views.piece_prompt, name="jewellery-prompt"),
    path("<int:piece_id>/generate/", views.piece_generate, name="jewellery-generate"),
    path("<int:piece_id>/generations/", views.piece_generations, name="jewellery-generations"),
    path("generations/<int:generation_id>/cancel/", views.generation_cancel, name="jewellery-generation-cancel"),
    path("generations/<int:generation_id>/delete/", views.generation_remove, name="jewellery-generation-delete"),
    path("<int:piece_id>/delete/", views.piece_remove, name="jewellery-delete"),
    path("design-checks/<int:check_id>/regenerate/", views.regenerate_free, name="jewellery-regenerate-free"),
]
