"""The engraving library pages: the library's materials and machines with their suggested settings and preview
colours, and the user's own machine profiles and material presets.

Thin: a page reads the library or one selector, or validates a form and calls one service; what the pages show is in
presenters.py, the forms in forms.py.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render

from intaglio.engrave import selectors, services
from intaglio.engrave.errors import StudioRefused
from intaglio.engrave.models import MachineProfile, MaterialPreset
from intaglio.imaging.artwork import machines, materials
from intaglio.web.engrave.presenters import KIND_LABELS, REFERENCE_MACHINES
from intaglio.web.library.forms import MachineForm, PresetForm, preset_initial
from intaglio.web.library.presenters import (
    curve_plot,
    guidance_rows,
    machine_row,
    material_card,
    material_groups,
    preset_rows,
    reference_machines,
    suggestion_rows,
)


@login_required
def material_list(request):
    return render(request, "web/library_materials.html", {"section": "materials", "groups": material_groups()})


@login_required
def material_detail(request, name: str):
    material = materials().get(name)
    if material is None:
        raise Http404("No such material")
    example = machines().get(REFERENCE_MACHINES["diode"])
    context = {
        "section": "materials",
        "card": material_card(material),
        "curve": curve_plot(material),
        "rows": suggestion_rows(material),
        "measured": guidance_rows(material),
        "reference_machines": reference_machines(),
        "presets": preset_rows(selectors.material_presets(owner=request.user, material=material.name)),
        "example_spot": f"{example.spot_mm:g}" if example else "",
        "example_mark": f"{example.spot_mm + material.spread_mm:g}" if example else "",
    }
    return render(request, "web/library_material.html", context)


# --- machines -----------------------------------------------------------------------------------------------------


@login_required
def machine_list(request):
    kinds = list(KIND_LABELS)
    library = sorted(machines().values(), key=lambda m: (kinds.index(m.kind) if m.kind in kinds else 9, m.power_w))
    profiles = selectors.machine_profiles(owner=request.user)
    context = {
        "section": "machines",
        "library": [machine_row(machine) for machine in library],
        "profiles": [machine_row(profile.machine_spec().engine_machine(), profile) for profile in profiles],
    }
    return render(request, "web/library_machines.html", context)


def _owned_profile(request, profile_id: int) -> MachineProfile:
    profile = selectors.machine_profile_get(owner=request.user, profile_id=profile_id)
    if profile is None:
        raise Http404("No such machine")
    return profile


def _machine_form_page(request, profile: MachineProfile | None):
    initial = {name: getattr(profile, name) for name in services.MACHINE_FIELDS} if profile else None
    form = MachineForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.machine_profile_save(owner=request.user, values=form.cleaned_data, profile=profile)
        except StudioRefused as refusal:
            form.add_error(None, refusal.message)
        else:
            messages.success(request, f"Machine “{saved.name}” {'saved' if profile else 'added'}.")
            return redirect("library-machines")
    context = {"section": "machines", "form": form, "profile": profile}
    # A form shown again with its errors is an ordinary page (200), as browsers log any 4xx page as an error.
    return render(request, "web/library_machine_form.html", context)


@login_required
def machine_new(request):
    return _machine_form_page(request, None)


@login_required
def machine_edit(request, profile_id: int):
    return _machine_form_page(request, _owned_profile(request, profile_id))


@login_required
def machine_delete(request, profile_id: int):
    """GET asks for confirmation; POST deletes."""
    profile = _owned_profile(request, profile_id)
    if request.method == "POST":
        name = profile.name
        services.machine_profile_delete(profile=profile)
        messages.success(request, f"Machine “{name}” deleted. Artwork already made with it keeps its settings.")
        return redirect("library-machines")
    return render(request, "web/library_machine_delete.html", {"section": "machines", "profile": profile})


# --- presets ------------------------------------------------------------------------------------------------------


@login_required
def preset_list(request):
    rows = preset_rows(selectors.material_presets(owner=request.user))
    return render(request, "web/library_presets.html", {"section": "presets", "rows": rows})


def _owned_preset(request, preset_id: int) -> MaterialPreset:
    preset = selectors.material_preset_get(owner=request.user, preset_id=preset_id)
    if preset is None:
        raise Http404("No such preset")
    return preset


def _preset_form_page(request, preset: MaterialPreset | None):
    if preset is not None:
        initial = preset_initial(preset)
    else:
        start = request.GET.get("material", "")
        initial = {"material": start if start in materials() else "birch-plywood", "mode": "floyd-steinberg"}
    form = PresetForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.material_preset_save(owner=request.user, values=form.values(preset), preset=preset)
        except StudioRefused as refusal:
            form.add_error(None, refusal.message)
        else:
            messages.success(request, f"Preset “{saved.name}” {'saved' if preset else 'added'}.")
            return redirect("library-presets")
    context = {"section": "presets", "form": form, "preset": preset}
    return render(request, "web/library_preset_form.html", context)


@login_required
def preset_new(request):
    return _preset_form_page(request, None)


@login_required
def preset_edit(request, preset_id: int):
    return _preset_form_page(request, _owned_preset(request, preset_id))


@login_required
def preset_delete(request, preset_id: int):
    """GET asks for confirmation; POST deletes."""
    preset = _owned_preset(request, preset_id)
    if request.method == "POST":
        name = preset.name
        services.material_preset_delete(preset=preset)
        messages.success(request, f"Preset “{name}” deleted. Artwork already made with it keeps its settings.")
        return redirect("library-presets")
    return render(request, "web/library_preset_delete.html", {"section": "presets", "preset": preset})
