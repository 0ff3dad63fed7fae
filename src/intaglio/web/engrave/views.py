"""Engrave studio pages: artworks, the live preview, preparing versions, the style gallery. Thin: each view reads
the form, calls one service or selector and renders (what the page shows is in presenters.py)."""

from __future__ import annotations

import base64
import contextlib
import time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from intaglio.assets.selectors import asset_get
from intaglio.engrave import selectors, services
from intaglio.engrave.models import Artwork
from intaglio.engrave.params import STYLES
from intaglio.feedback import selectors as feedback_selectors
from intaglio.feedback import services as feedback_services
from intaglio.feedback.models import BurnReport
from intaglio.jobs.services import JobRefused
from intaglio.web.calibrate.presenters import burn_report_context
from intaglio.web.engrave.forms import form_number, settings_from_form
from intaglio.web.engrave.presenters import calibration_note, studio_context, styles_context, versions_context
from intaglio.web.refusals import refusal_as_message
from intaglio.web.shared import fragment_login_required


def _owned_artwork(request, artwork_id: int) -> Artwork:
    artwork = selectors.artwork_get(owner=request.user, artwork_id=artwork_id)
    if artwork is None:
        raise Http404("No such artwork")
    return artwork


# ----------------------------------------------------------------------------------------------------- pages


@login_required
def artwork_list(request):
    cards = [
        {"artwork": artwork, "latest": latest, "picture": picture}
        for artwork, latest, picture in selectors.artwork_cards(owner=request.user)
    ]
    return render(request, "web/studio_artworks.html", {"cards": cards})


@login_required
def artwork_new(request):
    if request.method == "POST":
        photo = asset_get(owner=request.user, asset_id=form_number(request.POST.get("photo"), int) or 0)
        if photo is None:
            raise Http404("No such photo")
        try:
            artwork = services.artwork_create(owner=request.user, source=photo, title=request.POST.get("title", ""))
        except services.StudioRefused as refused:
            messages.error(request, refused.message)
            return redirect("artwork-new")
        return redirect("artwork-studio", artwork.pk)
    return render(request, "web/studio_new.html", {"photos": selectors.studio_photos(owner=request.user)})


@login_required
def artwork_studio(request, artwork_id: int):
    return render(request, "web/studio.html", studio_context(request, _owned_artwork(request, artwork_id)))


# The pictures a live preview answer can carry; the studio asks only for what its canvas shows (a slider move on
# the burn tab carries the burn alone), and the framed photo comes once per framing from its own cacheable URL.
PREVIEW_PICTURES = ("artwork", "burn", "burn-full")
# A framed photo's URL names the photo and the framing, so its bytes never change: the browser keeps it.
PHOTO_MAX_AGE = 7 * 24 * 3600


@fragment_login_required
@require_POST
def artwork_live_preview(request, artwork_id: int):
    """The studio's live preview, re-rendered (debounced by the page) whenever a setting changes."""
    started = time.perf_counter()
    artwork = _owned_artwork(request, artwork_id)
    settings = settings_from_form(request.POST)
    context = {"artwork": artwork, "calibration": calibration_note(request.user, request.POST)}
    try:
        preview = services.artwork_live_preview(artwork=artwork, settings=settings)
    except services.StudioRefused as refused:
        context["error"] = refused.message
    else:
        show = [name for name in request.POST.get("show", "").split(",") if name in PREVIEW_PICTURES]
        context.update(preview_context(artwork, preview, show or PREVIEW_PICTURES))
    context["answer_ms"] = (time.perf_counter() - started) * 1000
    return render(request, "web/_studio_preview.html", context)


def preview_context(artwork: Artwork, preview: services.LivePreview, show) -> dict:
    """The preview partial's pictures: the dots and the burn inline when asked for (the burn at the canvas's size,
    or dot for dot for the 1:1 and 2:1 views), and the URL of the framed photo, fetched once per framing."""
    full = "burn-full" in show
    burn = preview.burn_jpeg if full else preview.burn_view_jpeg if "burn" in show else b""
    return {
        "preview": preview,
        "artwork_png": base64.b64encode(preview.artwork_png).decode() if "artwork" in show else "",
        "burn": base64.b64encode(burn).decode(),
        "burn_full": full,
        # The Laser group and the Prepare button read this after each answer (engrave.js).
        "laser_state": {"laser": preview.laser, "refusal": list(preview.refusal) if preview.refusal else None},
        "photo_url": _with_query(
            reverse("artwork-photo", args=[artwork.pk, artwork.source_id or 0, *preview.picture_px, preview.fit]),
            services.photo_framing_query(preview.framing),
        ),
    }


def _with_query(path: str, query: str) -> str:
    return f"{path}?{query}" if query else path


@login_required
def artwork_photo(request, artwork_id: int, source_id: int, width: int, height: int, fit: str):
    """The photo framed as the artwork at the preview's dots, for the studio's Photo tab and before/after split."""
    artwork = _owned_artwork(request, artwork_id)
    if artwork.source_id != source_id:
        raise Http404("No such photo")
    try:
        framing = services.photo_framing_read(request.GET)
        data = services.framed_photo(artwork=artwork, size=(width, height), fit=fit, framing=framing)
    except services.StudioRefused as refused:
        raise Http404(refused.message) from None
    response = HttpResponse(data, content_type="image/jpeg")
    response["Cache-Control"] = f"private, max-age={PHOTO_MAX_AGE}, immutable"
    return response


@login_required
@require_POST
def artwork_prepare(request, artwork_id: int):
    artwork = _owned_artwork(request, artwork_id)
    settings = settings_from_form(request.POST)
    try:
        version = services.artwork_prepare(
            artwork=artwork, settings=settings, idempotency_key=request.POST.get("idempotency_key") or None
        )
    except (services.StudioRefused, JobRefused) as refused:
        messages.error(request, refused.message)
        with contextlib.suppress(services.StudioRefused):  # the message above already says what is wrong
            services.artwork_save_settings(artwork=artwork, settings=settings)
        return redirect("artwork-studio", artwork.pk)
    # Tagged so the page can clear it once the version's files are ready.
    messages.success(
        request,
        f"Version {version.number} is being prepared. Its files appear below when ready.",
        extra_tags=f"preparing-{version.number}",
    )
    return redirect(reverse("artwork-studio", args=[artwork.pk]) + "#versions")


@fragment_login_required
def artwork_versions(request, artwork_id: int):
    """The version history alone, polled while a version is being prepared."""
    artwork = _owned_artwork(request, artwork_id)
    return render(request, "web/_studio_versions.html", {"artwork": artwork, **versions_context(artwork)})


@login_required
def artwork_styles(request, artwork_id: int):
    artwork = _owned_artwork(request, artwork_id)
    if request.method == "POST":
        try:
            services.artwork_styles(artwork=artwork)
        except (services.StudioRefused, JobRefused) as refused:
            messages.error(request, refused.message)
        return redirect("artwork-styles", artwork.pk)
    return render(request, "web/studio_styles.html", styles_context(request, artwork))


@fragment_login_required
def artwork_styles_panel(request, artwork_id: int):
    artwork = _owned_artwork(request, artwork_id)
    return render(request, "web/_studio_styles_panel.html", styles_context(request, artwork))


@login_required
@require_POST
def artwork_use_style(request, artwork_id: int):
    artwork = _owned_artwork(request, artwork_id)
    style = request.POST.get("style", "")
    if style not in STYLES:
        raise Http404("No such style")
    try:
        services.artwork_save_settings(artwork=artwork, settings={**artwork.settings, "mode": style})
    except services.StudioRefused as refused:
        messages.error(request, refused.message)
    return redirect("artwork-studio", artwork.pk)


@login_required
@require_POST
def artwork_rename(request, artwork_id: int):
    artwork = _owned_artwork(request, artwork_id)
    try:
        services.artwork_rename(artwork=artwork, title=request.POST.get("title", ""))
    except services.StudioRefused as refused:
        messages.error(request, refused.message)
    return redirect("artwork-studio", artwork.pk)


@login_required
@require_POST
def artwork_save_preset(request, artwork_id: int):
    """*Save as preset*: the settings on screen (the page's script sends them), else the artwork's saved ones."""
    artwork = _owned_artwork(request, artwork_id)
    settings = settings_from_form(request.POST) if "material" in request.POST else artwork.settings
    try:
        preset = services.material_preset_from_settings(
            owner=request.user, name=request.POST.get("preset_name", ""), settings=settings
        )
    except services.StudioRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, f"Saved the preset “{preset.name}”: it is one click away in every artwork.")
    return redirect("artwork-studio", artwork.pk)


@login_required
def artwork_delete(request, artwork_id: int):
    artwork = _owned_artwork(request, artwork_id)
    if request.method == "POST":
        title = artwork.title
        services.artwork_delete(artwork=artwork, actor=request.user)
        messages.success(request, f"“{title}” and all its files are deleted.")
        return redirect("artwork-list")
    files = sum(len(row.downloads) for row in versions_context(artwork)["versions"])
    return render(request, "web/studio_delete.html", {"artwork": artwork, "file_count": files})


# --- calibration and How did it burn? ----------------------------------------------------------------------------


@login_required
@require_POST
def version_burn_photo(request, artwork_id: int, number: int):
    """*How did it burn?*: a photo of the piece burned from this version, measured against it."""
    artwork = _owned_artwork(request, artwork_id)
    version = artwork.versions.filter(number=number).first()
    if version is None:
        raise Http404("No such version")
    upload = request.FILES.get("photo")
    if upload is None:
        messages.error(request, "Choose a photo of the burned piece first.")
        return redirect(reverse("artwork-studio", args=[artwork.pk]) + "#versions")
    with refusal_as_message(request):
        report = feedback_services.burn_photo_report(owner=request.user, version=version, upload=upload)
        return redirect("artwork-burn-report", artwork.pk, report.pk)
    return redirect(reverse("artwork-studio", args=[artwork.pk]) + "#versions")


def _owned_report(request, artwork_id: int, report_id: int) -> BurnReport:
    report = feedback_selectors.burn_report_get(owner=request.user, report_id=report_id)
    if report is None or report.version.artwork_id != artwork_id:
        raise Http404("No such report")
    return report


@login_required
def burn_report(request, artwork_id: int, report_id: int):
    report = _owned_report(request, artwork_id, report_id)
    return render(request, "web/studio_burn_report.html", burn_report_context(report))


@fragment_login_required
def burn_report_panel(request, artwork_id: int, report_id: int):
    """The report alone, polled while the photo is being measured."""
    report = _owned_report(request, artwork_id, report_id)
    return render(request, "web/_studio_burn_panel.html", burn_report_context(report))


@login_required
def burn_report_delete(request, artwork_id: int, report_id: int):
    """GET asks for confirmation; POST deletes the report with its photo and pictures."""
    report = _owned_report(request, artwork_id, report_id)
    if request.method == "POST":
        feedback_services.burn_report_delete(report=report)
        messages.success(request, "The photo and its report are deleted.")
        return redirect(reverse("artwork-studio", args=[artwork_id]) + "#versions")
    return render(request, "web/studio_burn_delete.html", {"report": report, "artwork": report.version.artwork})
