"""Calibration pages: a new test card, the card with its files and photo upload, a reading's report, the maker's
calibrations. Thin: each view reads the form, calls one service or selector and renders (what the pages show is in
presenters.py)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from intaglio.engrave import selectors, services
from intaglio.engrave.errors import StudioRefused
from intaglio.engrave.models import CalibrationProfile
from intaglio.feedback import services as feedback_services
from intaglio.jobs.models import Job
from intaglio.web.calibrate.forms import CardForm
from intaglio.web.calibrate.presenters import (
    card_context,
    card_row,
    guidance_request,
    material_label,
    profile_row,
    reading_context,
)
from intaglio.web.refusals import refusal_as_message, refusal_kept
from intaglio.web.shared import fragment_login_required


def _owned_card(request, card_id: int) -> Job:
    card = selectors.card_job_get(owner=request.user, job_id=card_id)
    if card is None:
        raise Http404("No such test card")
    return card


def _owned_reading(request, reading_id: int) -> Job:
    reading = selectors.card_reading_get(owner=request.user, job_id=reading_id)
    if reading is None:
        raise Http404("No such reading")
    return reading


def _owned_profile(request, profile_id: int) -> CalibrationProfile:
    profile = selectors.calibration_profile_get(owner=request.user, profile_id=profile_id)
    if profile is None:
        raise Http404("No such calibration")
    return profile


# --- calibrations ---------------------------------------------------------------------------------------------------


@login_required
def calibration_list(request):
    context = {
        "section": "calibrations",
        "rows": [profile_row(profile) for profile in selectors.calibration_profiles(owner=request.user)],
        "cards": [card_row(card) for card in selectors.card_jobs(owner=request.user)[:10]],
    }
    return render(request, "web/calibrate_list.html", context)


@login_required
def calibration_delete(request, profile_id: int):
    """GET asks for confirmation; POST deletes."""
    profile = _owned_profile(request, profile_id)
    if request.method == "POST":
        services.calibration_profile_delete(profile=profile)
        messages.success(
            request,
            f"Calibration for {material_label(profile.material)} on {profile.machine_label} deleted. "
            "Versions already made with it keep their numbers.",
        )
        return redirect("calibrate-list")
    return render(request, "web/calibrate_delete.html", {"section": "calibrations", "row": profile_row(profile)})


# --- cards ----------------------------------------------------------------------------------------------------------


@login_required
def card_new(request):
    profiles = list(selectors.machine_profiles(owner=request.user))
    if request.method == "POST":
        form = CardForm(request.POST, machine_profiles=profiles)
        if form.is_valid():
            with refusal_kept() as refused:
                card = services.card_create(
                    owner=request.user,
                    values=form.values(),
                    idempotency_key=request.POST.get("idempotency_key") or None,
                )
            if not refused:
                messages.success(request, "Your test card is being made. Its files appear here in a moment.")
                return redirect("calibrate-card", card.pk)
            form.add_error(None, refused.message)
    else:
        start = {name: request.GET[name] for name in ("material", "machine", "mode") if request.GET.get(name)}
        form = CardForm(
            initial={"material": "birch-plywood", "machine": "diode-10w", "mode": "floyd-steinberg", **start},
            machine_profiles=profiles,
        )
    key = request.POST.get("idempotency_key") or uuid.uuid4().hex
    return render(request, "web/calibrate_new.html", {"section": "cards", "form": form, "idempotency_key": key})


@login_required
@require_POST
def card_verify(request, profile_id: int):
    """A verify card for one of the maker's calibrations: the same setup, the wedge prepared with its numbers."""
    profile = _owned_profile(request, profile_id)
    values = {"calibration_profile": profile.pk}
    if profile.machine.startswith("mine:"):
        values["machine_profile"] = int(profile.machine.removeprefix("mine:"))
    else:
        values["machine"] = profile.machine
    with refusal_as_message(request):
        card = services.card_create(owner=request.user, values=values)
        messages.success(request, "Your verify card is being made. Burn it like the first one and upload a photo.")
        return redirect("calibrate-card", card.pk)
    return redirect("calibrate-list")


@login_required
def card_detail(request, card_id: int):
    card = _owned_card(request, card_id)
    return render(
        request, "web/calibrate_card.html", {"section": "cards", **card_context(owner=request.user, card=card)}
    )


@fragment_login_required
def card_panel(request, card_id: int):
    """The card's files, polled while it is being made."""
    card = _owned_card(request, card_id)
    return render(request, "web/_calibrate_card_panel.html", card_context(owner=request.user, card=card))


@login_required
@require_POST
def card_photo(request, card_id: int):
    card = _owned_card(request, card_id)
    upload = request.FILES.get("photo")
    if upload is None:
        messages.error(request, "Choose a photo of the burned card first.")
        return redirect("calibrate-card", card.pk)
    with refusal_as_message(request):
        reading = feedback_services.card_photo_read(owner=request.user, card=card, upload=upload)
        return redirect("calibrate-reading", reading.pk)
    return redirect("calibrate-card", card.pk)


# --- readings -------------------------------------------------------------------------------------------------------


@login_required
def reading_detail(request, reading_id: int):
    reading = _owned_reading(request, reading_id)
    context = {"section": "cards", **reading_context(owner=request.user, reading=reading)}
    return render(request, "web/calibrate_reading.html", context)


@fragment_login_required
def reading_panel(request, reading_id: int):
    """The reading's report, polled while the photo is being read."""
    reading = _owned_reading(request, reading_id)
    return render(request, "web/_calibrate_reading_panel.html", reading_context(owner=request.user, reading=reading))


@login_required
@require_POST
def reading_save(request, reading_id: int):
    reading = _owned_reading(request, reading_id)
    with refusal_as_message(request):
        profile = services.calibration_profile_save(owner=request.user, read_job=reading)
        messages.success(
            request,
            f"Saved as your calibration for {material_label(profile.material)} on {profile.machine_label}. "
            "The studio uses it for this material, machine, mode and line interval.",
        )
        return redirect("calibrate-list")
    return redirect("calibrate-reading", reading.pk)


@login_required
@require_POST
def reading_verify(request, reading_id: int):
    reading = _owned_reading(request, reading_id)
    with refusal_as_message(request):
        profile = services.calibration_profile_verify(owner=request.user, read_job=reading)
        messages.success(request, f"Check recorded: tone within {profile.verify_error * 100:.1f} %.")
        return redirect("calibrate-list")
    return redirect("calibrate-reading", reading.pk)


# --- shared guidance ------------------------------------------------------------------------------------------------


@login_required
@require_POST
def guidance_adopt(request):
    """Starts a calibration from other makers' measurements for the studio's material, machine, mode and interval."""
    try:
        profile = feedback_services.guidance_start(owner=request.user, **guidance_request(request.POST))
    except StudioRefused:
        raise Http404("No shared guidance for that setup") from None
    messages.success(
        request,
        f"Started from other makers' measurements for {material_label(profile.material)}. "
        "Burn your own test card to replace them with yours.",
    )
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(back)
    return redirect("calibrate-list")
