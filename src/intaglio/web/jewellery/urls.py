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
    path("<int:piece_id>/kits/save/", views.kit_save, name="jewellery-kit-save"),
    path("<int:piece_id>/kits/apply/", views.kit_apply, name="jewellery-kit-apply"),
    path("kits/", views.kit_list, name="jewellery-kits"),
    path("kits/<int:kit_id>/delete/", views.kit_remove, name="jewellery-kit-delete"),
    path("batch/", views.batch_new, name="jewellery-batch-new"),
    path("batch/confirm/", views.batch_confirm, name="jewellery-batch-confirm"),
    path("batch/start/", views.batch_start, name="jewellery-batch-start"),
    path("batches/<int:batch_id>/", views.batch_page, name="jewellery-batch"),
    path("design-checks/<int:check_id>/regenerate/", views.regenerate_free, name="jewellery-regenerate-free"),
]
