from django.contrib import admin

from intaglio.accounts.forms import AdminLoginForm
from intaglio.accounts.models import ApiToken, User


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ["email", "email_verified_at", "is_active", "is_staff", "date_joined", "closed_at"]
    list_filter = ["is_active", "is_staff"]
    search_fields = ["email"]
    readonly_fields = ["password", "last_login", "date_joined", "closed_at"]
    exclude = ["user_permissions"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["digest", "prefix", "created_at", "last_used_at"]
    search_fields = ["user__email", "name"]


# The admin's login form counts attempts against the same limits as the site's.
admin.site.login_form = AdminLoginForm
