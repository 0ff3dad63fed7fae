"""Verdicts in the admin, read only: they are written from the reviewer's pages, where each view is audited."""

from django.contrib import admin

from intaglio.core.admin import ReadOnlyAdmin
from intaglio.review.models import Verdict


@admin.register(Verdict)
class VerdictAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "asset_id", "reviewer", "style_valid", "material_valid", "settings_valid"]
    list_filter = ["style_valid", "material_valid", "settings_valid"]
    search_fields = ["=asset__id"]
    date_hierarchy = "created_at"
