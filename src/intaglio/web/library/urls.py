"""The engraving library: materials and machines, and the user's own machine profiles and material presets."""

from django.urls import path

from intaglio.web.library import views

urlpatterns: list = [
    path("materials/", views.material_list, name="library-materials"),
    path("materials/<slug:name>/", views.material_detail, name="library-material"),
    path("machines/", views.machine_list, name="library-machines"),
    path("machines/new/", views.machine_new, name="library-machine-new"),
    path("machines/<int:profile_id>/edit/", views.machine_edit, name="library-machine-edit"),
    path("machines/<int:profile_id>/delete/", views.machine_delete, name="library-machine-delete"),
    path("presets/", views.preset_list, name="library-presets"),
    path("presets/new/", views.preset_new, name="library-preset-new"),
    path("presets/<int:preset_id>/edit/", views.preset_edit, name="library-preset-edit"),
    path("presets/<int:preset_id>/delete/", views.preset_delete, name="library-preset-delete"),
]
