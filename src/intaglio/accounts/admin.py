from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from intaglio.accounts.forms import AdminLoginForm
from intaglio.accounts.models import ApiToken, User


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ["email", "email_verified_at", "is_active", "is_staff", "date_joined", "closed_at"]
    list_filter = ["is_active", "is_staff"]
    search_fields = ["email"]
    readonly_fields = ["password", "last_login", "date_joined", "closed_at", "staff_views_of_files"]
    exclude = ["user_permissions"]

    @admin.display(description="Staff views of their files")
    def staff_views_of_files(self, obj: User):
        """Who looked at this customer's files this month: the audit log, filtered (privacy officers only)."""
        if obj.pk is None:
            return "-"
        url = reverse("admin:core_auditevent_changelist")
        return format_html('<a href="{}?staff_views=month&amp;subject_user_id={}">This month</a>', url, obj.pk)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["digest", "prefix", "created_at", "last_used_at"]
    search_fields = ["user__email", "name"]


# The admin's login form counts attempts against the same limits as the site's.
admin.site.login_form = AdminLoginForm
