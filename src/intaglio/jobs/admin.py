from django.contrib import admin

from intaglio.jobs.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "owner", "state", "progress", "attempts", "created_at"]
    list_filter = ["state", "kind"]
    search_fields = ["owner__email", "id"]
