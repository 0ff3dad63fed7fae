"""The engraving library pages: materials with their swatches, tone curves and suggested settings; library machines;
the user's own machine profiles and material presets, added, edited and deleted through the forms."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from intaglio.engrave import services
from intaglio.engrave.models import MachineProfile, MaterialPreset
from intaglio.imaging.artwork import machines, materials
from tests.engrave import MACHINE

pytestmark = pytest.mark.django_db

PRESET = {
    "name": "Slate portraits",
    "material": "slate",
    "mode": "atkinson",
    "line_interval_mm": "0.12",
    "contrast": "1.3",
    "brightness": "",
    "gamma": "0.9",
    "sharpen_amount": "",
    "invert": "",
    "isolate_subject": "on",
    "notes": "Oil the stone after.",
}


def machine_profile(owner, **values) -> MachineProfile:
    return services.machine_profile_save(owner=owner, values={**MACHINE, **values})


def material_preset(owner, **values) -> MaterialPreset:
    fields = {"name": "Birch everyday", "material": "birch-plywood", "mode": "jarvis", "adjustments": {}} | values
    return services.material_preset_save(owner=owner, values=fields)


def text(response) -> str:
    """The page's text without tags, with runs of whitespace made single."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def field_value(response, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', response.content.decode())
    value = re.search(r'value="([^"]*)"', match.group(0)) if match else None
    return value.group(1) if value else None


def selected_option(response, name: str) -> str | None:
    select = re.search(rf'<select[^>]*name="{name}".*?</select>', response.content.decode(), re.S)
    chosen = re.search(r'<option value="([^"]*)"[^>]*selected', select.group(0)) if select else None
    return chosen.group(1) if chosen else None


# --- every page needs a login -------------------------------------------------------------------------------------


PAGES = [
    ("library-materials", []),
    ("library-material", ["birch-plywood"]),
    ("library-machines", []),
    ("library-machine-new", []),
    ("library-presets", []),
    ("library-preset-new", []),
]


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_pages_render_for_a_signed_in_user(logged_in, name, args):
    response = logged_in.get(reverse(name, args=args))
    assert response.status_code == 200
    body = response.content.decode()
    # Every library page has the sub-navigation and loads its stylesheet.
    for link in ("library-materials", "library-machines", "library-presets"):
        assert f'href="{reverse(link)}"' in body
    assert "/static/web/library.css" in body
    assert "style=" not in body  # the CSP forbids inline styles


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_anonymous_visitors_are_sent_to_log_in(client, name, args):
    url = reverse(name, args=args)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_anonymous_visitors_cannot_change_anything(client, user):
    profile, preset = machine_profile(user), material_preset(user)
    for url in (
        reverse("library-machine-new"),
        reverse("library-machine-edit", args=[profile.pk]),
        reverse("library-machine-delete", args=[profile.pk]),
        reverse("library-preset-new"),
        reverse("library-preset-delete", args=[preset.pk]),
    ):
        assert client.post(url, MACHINE).status_code == 302
    assert MachineProfile.objects.get().name == "Workshop diode"
    assert MaterialPreset.objects.count() == 1


def test_the_sub_navigation_marks_where_you_are(logged_in):
    body = logged_in.get(reverse("library-machines")).content.decode()
    assert f'href="{reverse("library-machines")}" aria-current="page"' in body
    assert f'href="{reverse("library-materials")}" aria-current' not in body
    # On a page inside a section, the section is marked without claiming to be the page itself.
    body = logged_in.get(reverse("library-material", args=["maple"])).content.decode()
    assert f'href="{reverse("library-materials")}" aria-current="true"' in body


# --- materials ----------------------------------------------------------------------------------------------------


def test_materials_page_shows_every_material_grouped_by_category(logged_in):
    response = logged_in.get(reverse("library-materials"))
    body = response.content.decode()
    for material in materials().values():
        assert f'href="{reverse("library-material", args=[material.name])}"' in body
        assert material.label in body
    # Grouped: the woods come under one heading, the stones under the next.
    order = [
        body.index('<h2 id="category-wood">Wood</h2>'),
        body.index(reverse("library-material", args=["birch-plywood"])),
        body.index('<h2 id="category-stone">Stone</h2>'),
        body.index(reverse("library-material", args=["slate"])),
    ]
    assert order == sorted(order)
    page = text(response)
    # Each card's swatch goes from the surface's colour to the burned colour, as SVG fills.
    birch = materials()["birch-plywood"]
    assert 'stop-color="#e2c6a0"' in body  # unburned 226, 198, 160
    assert 'stop-color="#3e281a"' in body  # burned 62, 40, 26
    assert birch.notes in body
    assert "0.1 mm" in page and "254 DPI" in page


def test_light_marking_materials_say_they_are_inverted_automatically(logged_in):
    page = text(logged_in.get(reverse("library-materials")))
    slate_card = page[page.index("Slate") :][:300]
    assert "Marks light — inverted automatically" in slate_card
    birch_card = page[page.index("Birch plywood") :][:300]
    assert "Marks dark" in birch_card and "inverted" not in birch_card

    detail = text(logged_in.get(reverse("library-material", args=["slate"])))
    assert "Marks light — inverted automatically" in detail
    assert "never need to invert it yourself" in detail


def test_material_page_shows_curve_properties_and_suggestions(logged_in):
    response = logged_in.get(reverse("library-material", args=["birch-plywood"]))
    assert response.status_code == 200
    body, page = response.content.decode(), text(response)
    # The tone curve is drawn through each of the library's points.
    curve = re.search(r'<polyline class="curve-line" points="([^"]+)"', body).group(1).split()
    assert len(curve) == len(materials()["birch-plywood"].tone_curve) == 5
    assert "20% power → 25%" in body
    # Spread, texture and default adjustments with human names.
    assert "+0.05 mm" in page
    assert "Wood grain" in page
    assert "Contrast 1.1" in page and "Sharpen 0.5 at 0.15 mm" in page
    # Suggestions per laser type on its reference machine; the ones it cannot use are marked.
    assert re.search(r"Diode Diode laser 10 W \(optical\) 70% 7 W 3,000 mm/min 1 1\.4 J/mm²", page)
    assert re.search(r"CO₂ CO2 laser 60 W 25% 15 W 15,000 mm/min 1", page)
    assert page.count("Not suitable") == 2  # fibre and galvo
    assert "keep the energy per area" in page
    for name in ("diode-10w", "co2-60w", "fibre-30w", "galvo"):
        assert machines()[name].label in page


def test_material_page_lists_the_users_presets_on_it(logged_in, user, other_user):
    material_preset(user, name="Birch, soft", adjustments={"contrast": 1.2})
    material_preset(user, name="Maple, crisp", material="maple")
    material_preset(other_user, name="Someone else's birch")
    page = text(logged_in.get(reverse("library-material", args=["birch-plywood"])))
    assert "Birch, soft" in page and "Contrast 1.2" in page and "Jarvis–Judice–Ninke" in page
    assert "Maple, crisp" not in page
    assert "Someone else" not in page


def test_unknown_material_is_404(logged_in):
    assert logged_in.get(reverse("library-material", args=["unobtainium"])).status_code == 404


# --- machines -----------------------------------------------------------------------------------------------------


def test_machines_page_lists_the_library_and_your_own(logged_in, user, other_user):
    machine_profile(user)
    machine_profile(other_user, name="Not yours")
    page = text(logged_in.get(reverse("library-machines")))
    for machine in machines().values():
        assert machine.label in page
    assert "Fibre galvo marker 30 W" in page and "420,000 mm/min" in page and "150 × 150 mm" in page
    assert "Workshop diode" in page and "410 × 400 mm" in page and "5.5 W" in page
    assert "Not yours" not in page


def test_machines_page_without_profiles_invites_adding_one(logged_in):
    page = text(logged_in.get(reverse("library-machines")))
    assert "No machines of your own yet." in page


def test_add_a_machine_through_the_form(logged_in, user):
    response = logged_in.post(reverse("library-machine-new"), MACHINE)
    assert response.status_code == 302 and response["Location"] == reverse("library-machines")
    profile = MachineProfile.objects.get(owner=user)
    assert (profile.name, profile.kind, profile.power_w, profile.max_feed_mm_min) == (
        "Workshop diode",
        "diode",
        5.5,
        6000,
    )
    assert profile.line_interval_mm == 0.08  # empty: the spot size
    assert (profile.work_area_w_mm, profile.work_area_h_mm, profile.s_max, profile.min_power_pct) == (410, 400, 1000, 8)
    page = text(logged_in.get(response["Location"]))
    assert "Machine “Workshop diode” added." in page


def test_machine_form_shows_the_services_message_and_keeps_the_values(logged_in):
    response = logged_in.post(reverse("library-machine-new"), {**MACHINE, "power_w": "-5"})
    assert response.status_code == 200
    page = text(response)
    with pytest.raises(services.StudioRefused) as refused:
        services.machine_profile_save(owner=response.wsgi_request.user, values={**MACHINE, "power_w": -5})
    assert refused.value.message in page
    assert field_value(response, "power_w") == "-5"
    assert field_value(response, "name") == "Workshop diode"
    assert field_value(response, "work_area_w_mm") == "410"
    assert selected_option(response, "kind") == "diode"
    assert not MachineProfile.objects.exists()


def test_machine_form_refuses_a_duplicate_name(logged_in, user):
    machine_profile(user)
    response = logged_in.post(reverse("library-machine-new"), {**MACHINE, "power_w": "20"})
    assert response.status_code == 200
    assert "You already have a machine called &#x27;Workshop diode&#x27;." in response.content.decode()
    assert field_value(response, "power_w") == "20"
    assert MachineProfile.objects.count() == 1


def test_machine_form_says_which_fields_are_missing(logged_in):
    response = logged_in.post(reverse("library-machine-new"), {**MACHINE, "spot_mm": "", "power_w": "lots"})
    assert response.status_code == 200
    page = text(response)
    assert "This field is required." in page and "Enter a number." in page
    assert field_value(response, "power_w") == "lots"


def test_edit_a_machine_through_the_form(logged_in, user):
    profile = machine_profile(user)
    url = reverse("library-machine-edit", args=[profile.pk])
    form = logged_in.get(url)
    assert field_value(form, "name") == "Workshop diode" and field_value(form, "power_w") == "5.5"
    assert selected_option(form, "kind") == "diode"

    response = logged_in.post(url, {**MACHINE, "name": "Big CO2", "kind": "co2", "power_w": "60", "spot_mm": "0.13"})
    assert response.status_code == 302
    profile.refresh_from_db()
    assert (profile.name, profile.kind, profile.power_w, profile.line_interval_mm) == ("Big CO2", "co2", 60, 0.13)
    assert MachineProfile.objects.count() == 1


def test_delete_a_machine_after_confirming(logged_in, user):
    profile = machine_profile(user)
    url = reverse("library-machine-delete", args=[profile.pk])
    confirm = text(logged_in.get(url))
    assert "Delete “Workshop diode”?" in confirm
    assert "keep their settings" in confirm
    assert MachineProfile.objects.exists()  # asking deletes nothing

    response = logged_in.post(url)
    assert response.status_code == 302 and response["Location"] == reverse("library-machines")
    assert not MachineProfile.objects.exists()
    assert "Machine “Workshop diode” deleted." in text(logged_in.get(response["Location"]))


def test_another_users_machine_is_404(logged_in, other_user):
    profile = machine_profile(other_user)
    for name in ("library-machine-edit", "library-machine-delete"):
        url = reverse(name, args=[profile.pk])
        assert logged_in.get(url).status_code == 404
        assert logged_in.post(url, {**MACHINE, "name": "Mine now"}).status_code == 404
    profile.refresh_from_db()
    assert profile.name == "Workshop diode"


def test_machine_forms_need_the_csrf_token(csrf_client, user):
    csrf_client.force_login(user)
    assert csrf_client.post(reverse("library-machine-new"), MACHINE).status_code == 403
    assert not MachineProfile.objects.exists()


# --- presets ------------------------------------------------------------------------------------------------------


def test_presets_page_lists_your_presets(logged_in, user, other_user):
    material_preset(
        user,
        name="Slate portraits",
        material="slate",
        mode="atkinson",
        line_interval_mm=0.12,
        adjustments={"contrast": 1.3, "invert": True},
        notes="Oil the stone after.",
    )
    material_preset(other_user, name="Not yours")
    response = logged_in.get(reverse("library-presets"))
    page, body = text(response), response.content.decode()
    assert "Slate portraits" in page and "Slate" in page and "Atkinson" in page and "0.12 mm" in page
    assert "Contrast 1.3" in page and "Inverted" in page and "Oil the stone after." in page
    assert 'stop-color="#3a3e42"' in body  # slate's surface colour on its swatch
    assert "Not yours" not in page


def test_presets_page_without_presets_invites_making_one(logged_in):
    assert "No presets yet." in text(logged_in.get(reverse("library-presets")))


def test_preset_form_offers_materials_by_category_modes_by_name_and_the_engine_limits(logged_in):
    response = logged_in.get(reverse("library-preset-new"))
    body = response.content.decode()
    assert '<optgroup label="Wood">' in body and '<optgroup label="Stone">' in body
    assert '<option value="floyd-steinberg" selected>Floyd–Steinberg</option>' in body
    assert '<option value="grayscale">Grayscale (variable power)</option>' in body
    contrast = re.search(r'<input[^>]*name="contrast"[^>]*>', body).group(0)
    assert 'min="0.2"' in contrast and 'max="3"' in contrast and 'step="0.01"' in contrast
    brightness = re.search(r'<input[^>]*name="brightness"[^>]*>', body).group(0)
    assert 'min="-1"' in brightness and 'max="1"' in brightness
    # Opened from a material's page, the form starts on that material.
    from_slate = logged_in.get(reverse("library-preset-new") + "?material=slate")
    assert selected_option(from_slate, "material") == "slate"


def test_add_a_preset_through_the_form(logged_in, user):
    response = logged_in.post(reverse("library-preset-new"), PRESET)
    assert response.status_code == 302 and response["Location"] == reverse("library-presets")
    preset = MaterialPreset.objects.get(owner=user)
    assert (preset.name, preset.material, preset.mode, preset.line_interval_mm) == (
        "Slate portraits",
        "slate",
        "atkinson",
        0.12,
    )
    # Empty adjustments stay unset (the material's defaults apply); an unticked box is not stored.
    assert preset.adjustments == {"contrast": 1.3, "gamma": 0.9, "isolate_subject": True}
    assert preset.notes == "Oil the stone after."
    assert "Preset “Slate portraits” added." in text(logged_in.get(response["Location"]))


def test_preset_form_shows_the_services_message_and_keeps_the_values(logged_in, user):
    material_preset(user, name="Slate portraits")
    response = logged_in.post(reverse("library-preset-new"), PRESET)
    assert response.status_code == 200
    assert "You already have a preset called &#x27;Slate portraits&#x27;." in response.content.decode()
    assert field_value(response, "contrast") == "1.3"
    assert selected_option(response, "material") == "slate"
    assert selected_option(response, "mode") == "atkinson"
    assert MaterialPreset.objects.count() == 1

    response = logged_in.post(reverse("library-preset-new"), {**PRESET, "name": "Too punchy", "contrast": "9"})
    assert response.status_code == 200
    assert "Some preset settings are not valid" in text(response) and "contrast" in text(response)
    assert field_value(response, "contrast") == "9"
    assert field_value(response, "name") == "Too punchy"
    assert MaterialPreset.objects.count() == 1


def test_edit_a_preset_keeps_adjustments_the_form_does_not_show(logged_in, user):
    preset = material_preset(user, adjustments={"contrast": 1.2, "clahe": 0.3, "invert": True})
    url = reverse("library-preset-edit", args=[preset.pk])
    form = logged_in.get(url)
    assert field_value(form, "name") == "Birch everyday" and field_value(form, "contrast") == "1.2"
    assert re.search(r'<input[^>]*name="invert"[^>]*checked', form.content.decode())

    response = logged_in.post(url, {**PRESET, "name": "Birch, gentle", "material": "birch-plywood", "invert": ""})
    assert response.status_code == 302
    preset.refresh_from_db()
    assert preset.name == "Birch, gentle" and preset.mode == "atkinson"
    assert preset.adjustments == {"clahe": 0.3, "contrast": 1.3, "gamma": 0.9, "isolate_subject": True}


def test_delete_a_preset_after_confirming(logged_in, user):
    preset = material_preset(user)
    url = reverse("library-preset-delete", args=[preset.pk])
    assert "Delete “Birch everyday”?" in text(logged_in.get(url))
    assert MaterialPreset.objects.exists()
    response = logged_in.post(url)
    assert response.status_code == 302 and response["Location"] == reverse("library-presets")
    assert not MaterialPreset.objects.exists()


def test_another_users_preset_is_404(logged_in, other_user):
    preset = material_preset(other_user)
    for name in ("library-preset-edit", "library-preset-delete"):
        url = reverse(name, args=[preset.pk])
        assert logged_in.get(url).status_code == 404
        assert logged_in.post(url, PRESET).status_code == 404
    preset.refresh_from_db()
    assert preset.name == "Birch everyday"
