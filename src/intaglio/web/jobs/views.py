"""A job's page: its state, its files, cancelling and deleting it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from intaglio.core.access import owned
from intaglio.jobs import selectors as job_selectors
from intaglio.jobs import services as job_services
from intaglio.web.jobs.presenters import job_cancel_message, job_card, job_list_context, job_panel_context, kind_label
from intaglio.web.shared import fragment_login_required


@fragment_login_required
def job_list_fragment(request):
    """The job list alone, polled by the dashboard while any job is still in progress."""
    return render(request, "web/_job_list.html", job_list_context(request.user))


@login_required
def job_detail(request, job_id: int):
    job = owned(job_selectors.job_list, owner=request.user, pk=job_id)
    return render(request, "web/job_detail.html", job_panel_context(job))


@fragment_login_required
def job_panel(request, job_id: int):
    """The live part of the job page, polled while the job is in progress."""
    job = owned(job_selectors.job_list, owner=request.user, pk=job_id)
    return render(request, "web/_job_panel.html", job_panel_context(job))


@login_required
@require_POST
def job_cancel(request, job_id: int):
    job = owned(job_selectors.job_list, owner=request.user, pk=job_id)
    job = job_services.job_cancel(job=job)
    messages.add_message(request, *job_cancel_message(job))
    return redirect("job-detail", job_id=job.pk)


@login_required
def job_delete(request, job_id: int):
    """GET asks for confirmation (the page's dialog does the same without leaving it); POST deletes."""
    job = owned(job_selectors.job_list, owner=request.user, pk=job_id)
    if request.method == "POST":
        label = f"{kind_label(job.kind)} #{job.pk}"
        job_services.job_delete(job=job, actor=request.user)
        messages.success(request, f"{label} deleted, with its photo and previews.")
        return redirect("dashboard")
    return render(request, "web/job_delete.html", {"card": job_card(job), "job": job})
