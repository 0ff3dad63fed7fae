"""Engrave studio pages: artworks, the live preview, preparing versions, the style gallery. Thin: each view reads
the form, calls one service or selector and renders."""

from __future__ import annotations

import base64
import contextlib
import uuid
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from intaglio.assets.models import Asset
from intaglio.credits.selectors import credit_balance
from intaglio.engrave import selectors, services
from intaglio.engrave.models import Artwork, ArtworkVersion
from intaglio.engrave.params import STYLES
from intaglio.imaging.artwork import machines, materials
from intaglio.imaging.artwork.halftone import DIFFUSION_KERNELS
from intaglio.imaging.artwork.library import CATEGORIES
from intaglio.imaging.artwork.tone import ADJUSTMENT_LIMITS
from intaglio.jobs.kinds import get_kind
from intaglio.jobs.models import TERMINAL_STATES
from intaglio.jobs.services import JobRefused
from intaglio.web.engrave_labels import mode_choices, mode_label
from intaglio.web.views import STATE_DISPLAY, fragment_login_required

ADJUSTMENT_SLIDERS = (
    ("brightness", "Brightness", 0.01, 0.0),
    ("contrast", "Contrast", 0.01, 1.0),
    ("gamma", "Gamma", 0.01, 1.0),
    ("sharpen_amount", "Sharpen", 0.05, 0.0),
    ("clahe", "Local contrast", 0.05, 0.0),
    ("denoise", "Denoise", 0.05, 0.0),
)
# Which mode-specific settings each mode shows (the studio form hides the others).
MODE_OPTION_GROUPS = {
    **{mode: "diffusion" for mode in DIFFUSION_KERNELS},
    "threshold": "threshold",
    "halftone": "halftone angle",
    "hatch": "hatch angle",
    "sketch": "sketch",
    "stipple": "stipple",
}
# Mode-specific settings: form name, parser.
MODE_OPTIONS = {
    "threshold": float,
    "cell_mm": float,
    "lpi": float,
    "angle_deg": float,
    "spacing_mm": float,
    "line_width_mm": float,
    "detail": float,
    "seed": int,
}


def _owned_artwork(request, artwork_id: int) -> Artwork:
    artwork = selectors.artwork_get(owner=request.user, artwork_id=artwork_id)
    if artwork is None:
        raise Http404("No such artwork")
    return artwork


def _number(raw: str | None, parse=float):
    """A number from a form field; text that is not a number is passed on, so validation names the field."""
    if raw is None or not raw.strip():
        return None
    try:
        return parse(raw)
    except ValueError:
        return raw


def settings_from_form(data) -> dict:
    """The studio form → the settings shape the services take (see engrave.params.ArtworkSettings)."""
    settings: dict = {"material": data.get("material", ""), "width_mm": _number(data.get("width_mm"))}
    machine = data.get("machine", "")
    if machine.startswith("mine:"):
        settings["machine_profile"] = _number(machine.removeprefix("mine:"), int)
    else:
        settings["machine"] = machine
    for name in ("height_mm", "line_interval_mm"):
        if (value := _number(data.get(name))) is not None:
            settings[name] = value
    settings["fit"] = data.get("fit") or "crop"
    settings["mode"] = data.get("mode") or "floyd-steinberg"
    adjustments = {name: _number(data.get(name)) for name in ADJUSTMENT_LIMITS}
    adjustments = {name: value for name, value in adjustments.items() if value is not None}
    adjustments.update(invert="invert" in data, isolate_subject="isolate_subject" in data)
    settings["adjustments"] = adjustments
    settings["serpentine"] = "serpentine" in data
    for name, parse in MODE_OPTIONS.items():
        if (value := _number(data.get(name), parse)) is not None:
            settings[name] = value
    return settings


def _material_groups():
    library = materials()
    return [(category.capitalize(), [m for m in library.values() if m.category == category]) for category in CATEGORIES]


def _machine_option(value: str, label: str, area: tuple[float, float]) -> dict:
    return {"value": value, "label": label, "area": f"{area[0]:g} × {area[1]:g} mm"}


def _form_context(request, artwork: Artwork) -> dict:
    current = {**services.default_settings(), **artwork.settings}
    spec = current.get("machine_spec")
    profiles = list(selectors.machine_profiles(owner=request.user))
    chosen_machine = current.get("machine") or ""
    if spec:  # a version made with one of the user's machines: select it again if it still matches by name
        match = next((p for p in profiles if p.name == spec.get("label")), None)
        chosen_machine = f"mine:{match.pk}" if match else ""
    adjustments = current.get("adjustments") or {}
    material = materials().get(current["material"])
    material_defaults = material.default_adjustments if material else {}
    sliders = [
        {
            "name": name,
            "label": label,
            "min": ADJUSTMENT_LIMITS[name][0],
            "max": ADJUSTMENT_LIMITS[name][1],
            "step": step,
            "value": adjustments.get(name, material_defaults.get(name, neutral)),
        }
        for name, label, step, neutral in ADJUSTMENT_SLIDERS
    ]
    presets = [
        {
            "id": p.pk,
            "name": p.name,
            "material": p.material,
            "mode": p.mode,
            "line_interval_mm": p.line_interval_mm,
            "adjustments": p.adjustments,
        }
        for p in selectors.material_presets(owner=request.user)
    ]
    return {
        "artwork": artwork,
        "current": current,
        "adjustments": adjustments,
        "sliders": sliders,
        "material_groups": _material_groups(),
        "machine_groups": [
            ("Library", [_machine_option(m.name, m.label, m.work_area_mm) for m in machines().values()]),
            (
                "Your machines",
                [_machine_option(f"mine:{p.pk}", p.name, (p.work_area_w_mm, p.work_area_h_mm)) for p in profiles],
            ),
        ],
        "chosen_machine": chosen_machine,
        "mode_groups": [
            (group, [(mode, label, MODE_OPTION_GROUPS.get(mode, "")) for mode, label in choices])
            for group, choices in mode_choices()
        ],
        "mode_options": MODE_OPTION_GROUPS.get(current.get("mode"), ""),
        "presets": presets,
        "prepare_cost": get_kind("engrave.prepare").cost,
        "styles_cost": get_kind("engrave.styles").cost,
        "balance": credit_balance(user=request.user),
        "idempotency_key": uuid.uuid4().hex,
        **_versions_context(artwork),
    }


@dataclass
class VersionRow:
    version: ArtworkVersion
    state: str
    state_label: str
    tone: str
    thumbnail: Asset | None
    downloads: list[dict]
    summary: str


# The files of a version, in the order the download buttons show them.
DOWNLOADS = (("png", "PNG"), ("svg", "SVG"), ("gcode", "G-code"), ("burn-preview", "Preview"))


def _version_row(version: ArtworkVersion) -> VersionRow:
    job = version.job
    state = job.state if job else "deleted"
    state_label, tone = STATE_DISPLAY.get(state, ("Files deleted", "off"))
    settings = version.settings
    machine = (settings.get("machine_spec") or {}).get("label") or machines().get(settings.get("machine"), None)
    machine_label = machine if isinstance(machine, str) else (machine.label if machine else "")
    material = materials().get(settings.get("material"))
    summary = " · ".join(
        filter(
            None,
            [
                material.label if material else settings.get("material"),
                machine_label,
                f"{settings.get('width_mm', 0):g} mm wide",
                mode_label(settings.get("mode", "")),
            ],
        )
    )
    files = selectors.version_files(version)
    return VersionRow(
        version=version,
        state=state,
        state_label=state_label,
        tone=tone,
        thumbnail=files.get("burn-preview"),
        downloads=[{"label": label, "asset": files[role]} for role, label in DOWNLOADS if role in files],
        summary=summary,
    )


def _versions_context(artwork: Artwork) -> dict:
    rows = [_version_row(v) for v in artwork.versions.all()]
    return {"versions": rows, "versions_active": any(row.state not in (*TERMINAL_STATES, "deleted") for row in rows)}


# ----------------------------------------------------------------------------------------------------- pages


@login_required
def artwork_list(request):
    artworks = list(selectors.artwork_list(owner=request.user).prefetch_related("versions__job__outputs"))
    cards = []
    for artwork in artworks:
        latest = next(iter(artwork.versions.all()), None)
        files = selectors.version_files(latest) if latest else {}
        cards.append({"artwork": artwork, "latest": latest, "picture": files.get("burn-preview")})
    return render(request, "web/studio_artworks.html", {"cards": cards})


@login_required
def artwork_new(request):
    if request.method == "POST":
        photo = Asset.objects.filter(owner=request.user, pk=_number(request.POST.get("photo"), int) or 0).first()
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
    return render(request, "web/studio.html", _form_context(request, _owned_artwork(request, artwork_id)))


@fragment_login_required
@require_POST
def artwork_preview(request, artwork_id: int):
    """The live preview, re-rendered (debounced by the page) whenever a setting changes."""
    artwork = _owned_artwork(request, artwork_id)
    settings = settings_from_form(request.POST)
    context = {"artwork": artwork}
    try:
        preview = services.artwork_preview(artwork=artwork, settings=settings)
    except services.StudioRefused as refused:
        context["error"] = refused.message
    else:
        context.update(
            preview=preview,
            original=base64.b64encode(preview.original_jpeg).decode(),
            artwork_png=base64.b64encode(preview.artwork_png).decode(),
            burn=base64.b64encode(preview.burn_jpeg).decode(),
        )
    return render(request, "web/_studio_preview.html", context)


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
    messages.success(request, f"Version {version.number} is being prepared. Its files appear below when ready.")
    return redirect(reverse("artwork-studio", args=[artwork.pk]) + "#versions")


@fragment_login_required
def artwork_versions(request, artwork_id: int):
    """The version history alone, polled while a version is being prepared."""
    artwork = _owned_artwork(request, artwork_id)
    return render(request, "web/_studio_versions.html", {"artwork": artwork, **_versions_context(artwork)})


def _styles_context(request, artwork: Artwork) -> dict:
    job = artwork.styles_job
    pictures = selectors.style_previews(job) if job and job.state == "succeeded" else {}
    state_label, tone = STATE_DISPLAY.get(job.state, (job.state, "off")) if job else ("", "off")
    return {
        "artwork": artwork,
        "job": job,
        "job_state_label": state_label,
        "job_tone": tone,
        "running": job is not None and job.state not in TERMINAL_STATES,
        "styles": [{"name": name, "label": label, "picture": pictures.get(name)} for name, label in STYLES.items()],
        "cost": get_kind("engrave.styles").cost,
        "balance": credit_balance(user=request.user),
    }


@login_required
def artwork_styles(request, artwork_id: int):
    artwork = _owned_artwork(request, artwork_id)
    if request.method == "POST":
        try:
            services.artwork_styles(artwork=artwork)
        except (services.StudioRefused, JobRefused) as refused:
            messages.error(request, refused.message)
        return redirect("artwork-styles", artwork.pk)
    return render(request, "web/studio_styles.html", _styles_context(request, artwork))


@fragment_login_required
def artwork_styles_panel(request, artwork_id: int):
    artwork = _owned_artwork(request, artwork_id)
    return render(request, "web/_studio_styles_panel.html", _styles_context(request, artwork))


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
def artwork_delete(request, artwork_id: int):
    artwork = _owned_artwork(request, artwork_id)
    if request.method == "POST":
        title = artwork.title
        services.artwork_delete(artwork=artwork, actor=request.user)
        messages.success(request, f"“{title}” and all its files are deleted.")
        return redirect("artwork-list")
    files = sum(len(row.downloads) for row in _versions_context(artwork)["versions"])
    return render(request, "web/studio_delete.html", {"artwork": artwork, "file_count": files})
