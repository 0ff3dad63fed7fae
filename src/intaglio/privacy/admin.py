"""The privacy officer's desk in the Django admin: the data-rights queue (J29) with its deadlines and decisions,
and read-only views of the audit log, consent history and retention decisions. Every decision goes through a
service in intaglio.privacy.rights, which writes the audit event."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html

from intaglio.core.admin import ReadOnlyAdmin
from intaglio.core.audit import STAFF_FILE_VIEWED
from intaglio.core.models import AuditEvent
from intaglio.privacy import rights
from intaglio.privacy.models import ConsentEvent, DataRequest, PolicyVersion, RetentionDecision


class DueFilter(admin.SimpleListFilter):
    """Open requests past their deadline, or falling due within the week (the alert window)."""

    title = "deadline"
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [("overdue", "Overdue"), ("week", f"Due in the next {rights.DUE_ALERT_DAYS} days"), ("open", "Open")]

    def queryset(self, request, queryset):
        chosen = {
            "overdue": rights.data_requests_overdue,
            "week": rights.data_requests_due_soon,
            "open": rights.data_requests_open,
        }.get(self.value())
        return queryset & chosen() if chosen else queryset


class DecisionForm(forms.Form):
    outcome = forms.CharField(
        label="Outcome",
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
        help_text="What was done, or why the request is refused. The requester receives this text by e-mail.",
    )


@admin.register(DataRequest)
class DataRequestAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "status", "email", "channel", "received_at", "due_at", "deadline", "completed_at"]
    list_display_links = ["id", "kind"]
    list_filter = [DueFilter, "status", "kind", "channel"]
    search_fields = ["email", "=id"]
    date_hierarchy = "received_at"
    ordering = ["due_at", "id"]
    actions = [
        "mark_in_progress",
        "mark_completed",
        "mark_refused",
        "export_subject",
        "carry_out_erasure",
        "apply_restriction",
    ]
    readonly_fields = [
        "user",
        "email",
        "kind",
        "channel",
        "details",
        "status",
        "received_at",
        "due_at",
        "completed_at",
        "outcome",
        "subject_account",
    ]
    # Requests received by post or telephone are entered by the officer; everything else is read-only.
    add_fields = ["email", "kind", "details", "received_at"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.add_fields
        return list(self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False  # kept RETENTION_DATA_REQUEST_YEARS, then pruned by rights.data_requests_prune

    @admin.display(description="deadline")
    def deadline(self, obj: DataRequest):
        if obj.status not in rights.OPEN_STATUSES:
            return "answered"
        left = obj.due_at - timezone.now()
        if left < timedelta(0):
            return format_html("<strong>overdue by {} d</strong>", -left.days)
        return f"{left.days} d left"

    @admin.display(description="account")
    def subject_account(self, obj: DataRequest):
        subject = rights.data_request_subject_id(obj)
        if subject is None:
            return "no account"
        exists = get_user_model().objects.filter(pk=subject).exists()
        return f"user {subject}" + ("" if exists else " (erased or purged)")

    def save_model(self, request, obj, form, change):
        if change:
            return
        user = get_user_model().objects.filter(email=obj.email).first()
        created = rights.data_request_create(
            kind=obj.kind,
            email=obj.email,
            user=user,
            channel="staff",
            details=obj.details,
            actor=request.user,
            actor_role="privacy_officer",
            received_at=obj.received_at or timezone.now(),
        )
        obj.pk = created.pk
        obj.due_at = created.due_at

    # ---------------------------------------------------------------------------------------------- actions

    def _decide_page(self, request, queryset, *, action: str, title: str, status: str):
        form = DecisionForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            done = 0
            for data_request in queryset:
                try:
                    rights.data_request_decide(
                        data_request=data_request,
                        status=status,
                        outcome=form.cleaned_data["outcome"],
                        actor=request.user,
                    )
                    done += 1
                except rights.RightsError as refusal:
                    self.message_user(request, f"#{data_request.pk}: {refusal.message}", messages.WARNING)
            if done:
                self.message_user(request, f"{done} request(s) {status}; the requesters are told by e-mail.")
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "queryset": queryset,
            "form": form,
            "action": action,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "web/rights_admin_decide.html", context)

    @admin.action(description="Mark selected requests in progress")
    def mark_in_progress(self, request, queryset):
        moved = 0
        for data_request in queryset:
            try:
                rights.data_request_decide(
                    data_request=data_request, status=DataRequest.Status.IN_PROGRESS, actor=request.user
                )
                moved += 1
            except rights.RightsError as refusal:
                self.message_user(request, f"#{data_request.pk}: {refusal.message}", messages.WARNING)
        if moved:
            self.message_user(request, f"{moved} request(s) in progress.")

    @admin.action(description="Complete selected requests (with outcome)…")
    def mark_completed(self, request, queryset):
        return self._decide_page(
            request, queryset, action="mark_completed", title="Complete requests", status=DataRequest.Status.COMPLETED
        )

    @admin.action(description="Refuse selected requests (with reason)…")
    def mark_refused(self, request, queryset):
        return self._decide_page(
            request, queryset, action="mark_refused", title="Refuse requests", status=DataRequest.Status.REFUSED
        )

    @admin.action(description="Download the subject's data export (one request)")
    def export_subject(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one request to export its subject's data.", messages.WARNING)
            return None
        data_request = queryset.get()
        data = rights.subject_export(actor=request.user, data_request=data_request)
        response = HttpResponse(data, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="request-{data_request.pk}-export.zip"'
        return response

    @admin.action(description="Carry out erasure (erase requests; irreversible)…")
    def carry_out_erasure(self, request, queryset):
        User = get_user_model()
        targets = [(r, User.objects.filter(pk=rights.data_request_subject_id(r) or 0).first()) for r in queryset]
        usable = [(r, u) for r, u in targets if r.kind == DataRequest.Kind.ERASE and u is not None]
        usable = [(r, u) for r, u in usable if r.status in rights.OPEN_STATUSES]
        if len(usable) != len(targets):
            self.message_user(
                request,
                "Only open erasure requests whose account still exists can be carried out; others were left alone.",
                messages.WARNING,
            )
        if not usable:
            return None
        if "apply" not in request.POST:
            context = {
                **self.admin_site.each_context(request),
                "title": "Erase these accounts now?",
                "opts": self.model._meta,
                "queryset": [r for r, _ in usable],
                "form": None,
                "action": "carry_out_erasure",
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
                "warning": "Each account, its content and personal records are deleted now. Only the pseudonymised "
                "ledger and the request records are kept. This cannot be undone.",
            }
            return TemplateResponse(request, "web/rights_admin_decide.html", context)
        for data_request, user in usable:
            rights.erasure_carry_out(user=user, data_request=data_request, actor=request.user)
        self.message_user(request, f"{len(usable)} account(s) erased.")
        return None

    @admin.action(description="Apply restriction (restrict / object requests)")
    def apply_restriction(self, request, queryset):
        User = get_user_model()
        applied = 0
        for data_request in queryset:
            user = User.objects.filter(pk=rights.data_request_subject_id(data_request) or 0).first()
            usable = data_request.kind in (DataRequest.Kind.RESTRICT, DataRequest.Kind.OBJECT)
            if not usable or user is None or data_request.status not in rights.OPEN_STATUSES:
                note = f"#{data_request.pk}: not an open restriction or objection of an existing account."
                self.message_user(request, note, messages.WARNING)
                continue
            rights.restriction_set(
                user=user,
                on=True,
                kind=data_request.kind,
                channel=data_request.channel,
                actor=request.user,
                actor_role="privacy_officer",
                data_request=data_request,
            )
            applied += 1
        if applied:
            self.message_user(request, f"Processing restricted for {applied} account(s).")


class StaffFileViewsFilter(admin.SimpleListFilter):
    """Staff views of customers' files. With `?subject_user_id=<account id>` added, "this month" answers who looked
    at that customer's files this month (the link on the account's admin page opens exactly that)."""

    title = "staff views of files"
    parameter_name = "staff_views"

    def lookups(self, request, model_admin):
        return [("month", "This month"), ("all", "Any time")]

    def queryset(self, request, queryset):
        if self.value() not in ("month", "all"):
            return queryset
        views = queryset.filter(action=STAFF_FILE_VIEWED)
        if self.value() == "month":
            month_start = timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            views = views.filter(at__gte=month_start)
        return views


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "action", "actor", "actor_role", "target_type", "target_id", "subject_user_id"]
    list_filter = ["actor_role", "action", "target_type", StaffFileViewsFilter]
    search_fields = ["action", "=target_id", "=subject_user_id"]
    date_hierarchy = "at"
    list_select_related = ["actor"]


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "scope", "granted", "asset", "notice_version", "source"]
    list_filter = ["scope", "granted", "source"]
    search_fields = ["user__email"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]


@admin.register(RetentionDecision)
class RetentionDecisionAdmin(ReadOnlyAdmin):
    list_display = ["decided_at", "item_type", "item_id", "retention_class", "outcome", "reason", "lag_seconds"]
    list_filter = ["outcome", "item_type", "retention_class", "reason"]
    search_fields = ["=item_id"]
    date_hierarchy = "decided_at"


@admin.register(PolicyVersion)
class PolicyVersionAdmin(admin.ModelAdmin):
    list_display = ["version", "published_at", "material", "summary"]
    list_filter = ["material"]
    search_fields = ["version", "summary"]
    ordering = ["-published_at"]
