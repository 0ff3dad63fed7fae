"""Prompt templates, versioned: a prompt is built from confirmed attributes and a preset, shown to the user exactly
as it will be sent, and stored with its template version on the job (J3). Change the wording → bump the version."""

from __future__ import annotations

from dataclasses import dataclass

from intaglio.imaging.jewellery import vocabulary

TEMPLATE_VERSION = "jewellery-prompt/2026-12.1"


@dataclass(frozen=True)
class Preset:
    label: str
    scene: str
    staging: str  # what it stages, one of providers.base.STAGINGS: a provider that cannot stage it is not offered
    zoom: float = 1.0


PRESETS: dict[str, Preset] = {
    "white_packshot": Preset(
        "White packshot",
        "Centred on a seamless pure white background in soft, even studio light",
        "studio",
    ),
    "lifestyle_surface": Preset(
        "Lifestyle surface",
        "Resting on a warm natural stone surface in soft window daylight, shallow depth of field, calm editorial mood",
        "lifestyle",
    ),
    "on_model_hand": Preset(
        "On model: hand",
        "Worn on a model's hand, natural skin texture, relaxed elegant pose, neutral manicure, soft daylight",
        "on_model",
    ),
    "on_model_neck": Preset(
        "On model: neck",
        "Worn on a model's neck and collarbone, natural skin texture, simple neutral top, soft daylight",
        "on_model",
    ),
    "on_model_ear": Preset(
        "On model: ear",
        "Worn on a model's ear in profile, hair tucked back, natural skin texture, soft daylight",
        "on_model",
    ),
    "macro_detail": Preset(
        "Macro detail",
        "Extreme close-up macro shot of the setting, prongs and stone facets in crisp detail on a white background",
        "studio",
        zoom=1.8,
    ),
}

ASPECT_RATIOS = ("1:1", "4:5", "3:4", "2:3", "16:9", "9:16")

# The camera angle a catalogue keeps for every piece: "as_reference" keeps each reference's own view (what a renderer
# that cannot re-pose the piece makes); the others ask an image service for that view.
ANGLES: dict[str, str] = {
    "as_reference": "",
    "front": "Seen straight from the front, the camera level with the piece",
    "three_quarter": "Seen from a three-quarter view, turned about 45 degrees, the camera slightly above",
    "side": "Seen in profile, from the side",
    "top": "Seen from directly above, flat lay",
}
# The shadow under a studio shot: "soft" grounds the piece, "none" floats it shadowless on the backdrop.
SHADOWS: dict[str, str] = {
    "soft": "With a soft contact shadow and a faint reflection beneath the piece",
    "none": "No shadow and no reflection: the piece alone on a perfectly even background",
}

_PIECE = {
    "ring": "ring",
    "earrings": "pair of earrings",
    "necklace": "necklace",
    "pendant": "pendant",
    "bracelet": "bracelet",
    "brooch": "brooch",
    "other": "piece of jewellery",
    vocabulary.UNKNOWN: "piece of jewellery",
}
METAL_NAMES = {
    "yellow_gold": "yellow gold",
    "rose_gold": "rose gold",
    "white_metal": "white gold or platinum",
    "mixed": "two-tone metal",
}
_COLOUR = {"colourless": "colourless", "multicolour": "multicoloured"}


def _stones(stones: list[dict]) -> str:
    groups = []
    for group in stones:
        colour = _COLOUR.get(group["colour"], group["colour"]) if group["colour"] != vocabulary.UNKNOWN else ""
        cut = f"{group['cut']}-cut" if group["cut"] not in (vocabulary.UNKNOWN, "other") else ""
        count = int(group["count"])
        words = " ".join(word for word in (cut, colour) if word)
        if count == 1:
            groups.append(f"one {words} stone".replace("  ", " "))
        elif count > 1:
            about = "" if count <= 5 else "about "
            groups.append(f"{about}{count} {words} stones".replace("  ", " "))
        else:
            groups.append(f"{words} stones".strip())
    if not groups:
        return ""
    return " set with " + (groups[0] if len(groups) == 1 else ", ".join(groups[:-1]) + " and " + groups[-1])


def build_prompt(
    attributes: dict, *, preset: str, metal: str | None = None, angle: str = "as_reference", shadow: str = "soft"
) -> str:
    """The exact text sent to the generation provider for one image. The shadow applies to studio shots only (a
    lifestyle set or a model has its own light)."""
    scene = PRESETS[preset].scene
    analysed_metal = attributes["metal"]["value"]
    shown_metal = metal or analysed_metal
    metal_words = METAL_NAMES.get(shown_metal, "")
    finish = attributes["finish"]["value"]
    parts = [
        f"Photorealistic product photograph of the {_PIECE[attributes['type']['value']]} shown in the reference "
        "images"
        + (f", in {metal_words}" if metal_words else "")
        + _stones(attributes.get("stones") or [])
        + (f", with a {finish} finish" if finish != vocabulary.UNKNOWN else "")
        + ".",
        "Keep the design exactly as in the references: the same shape and proportions, the same number, cut and "
        "colour of stones, the same setting, prongs and details.",
    ]
    if metal and metal != analysed_metal:
        parts.append(f"Change only the metal colour to {metal_words}; every stone keeps its colour.")
    parts.append(f"{scene}.")
    if ANGLES[angle]:
        parts.append(f"{ANGLES[angle]}.")
    if PRESETS[preset].staging == "studio":
        parts.append(f"{SHADOWS[shadow]}.")
    parts.append(
        "True-to-life metal colour and reflections, sharp focus on the piece, no text, no logo, no watermark, "
        "no other jewellery."
    )
    return " ".join(parts)
