"""Names people read in the jewellery studio: the analysis vocabulary, presets, aspect ratios, providers, states."""

from __future__ import annotations

from intaglio.imaging import COMPOSITE_SYNTHETIC, TRAINED_ALGORITHMIC_MEDIA
from intaglio.imaging.jewellery import vocabulary
from intaglio.jewellery.prompts import ASPECT_RATIOS, PRESETS
from intaglio.jobs.models import JobState

NOT_SURE = "Not sure"

TYPE_LABELS = {
    "ring": "Ring",
    "earrings": "Earrings",
    "necklace": "Necklace",
    "pendant": "Pendant",
    "bracelet": "Bracelet",
    "brooch": "Brooch",
    "other": "Another kind of piece",
}
METAL_LABELS = {
    "yellow_gold": "Yellow gold",
    "rose_gold": "Rose gold",
    "white_metal": "White metal",
    "mixed": "Two-tone (mixed metals)",
}
# What "white metal" covers, said where the metal colours are chosen.
METAL_HINTS = {
    "yellow_gold": "Warm, classic gold",
    "rose_gold": "Pink-copper gold",
    "white_metal": "White gold, platinum or silver",
}
FINISH_LABELS = {
    "polished": "Polished",
    "matte": "Matte",
    "brushed": "Brushed",
    "hammered": "Hammered",
    "textured": "Textured",
}
STONE_COLOUR_LABELS = {
    "colourless": "Colourless (diamond-like)",
    "red": "Red",
    "pink": "Pink",
    "orange": "Orange",
    "yellow": "Yellow",
    "green": "Green",
    "blue": "Blue",
    "purple": "Purple",
    "black": "Black",
    "multicolour": "Multicoloured",
}
STONE_CUT_LABELS = {
    "round": "Round",
    "oval": "Oval",
    "pear": "Pear",
    "marquise": "Marquise",
    "emerald": "Emerald (step cut)",
    "princess": "Princess (square)",
    "cushion": "Cushion",
    "cabochon": "Cabochon (domed)",
    "other": "Another cut",
}
SHOT_LABELS = {
    "packshot": "Product photo",
    "lifestyle": "Lifestyle photo",
    "on_model": "Worn by a model",
    "cad_render": "CAD render",
    "sketch": "Sketch or drawing",
}
# One line under each preset's name on the generate form; the preset's label comes from prompts.PRESETS.
PRESET_HINTS = {
    "white_packshot": "Pure white background, soft shadow. For shops and marketplaces.",
    "lifestyle_surface": "On warm stone in window light. For social posts and banners.",
    "on_model_hand": "Worn on a hand, natural skin and daylight.",
    "on_model_neck": "Worn at the neck and collarbone.",
    "on_model_ear": "Worn on an ear, in profile.",
    "macro_detail": "A close-up of the setting, prongs and stones.",
}
ASPECT_LABELS = {
    "1:1": "Square",
    "4:5": "Portrait",
    "3:4": "Portrait",
    "2:3": "Tall",
    "16:9": "Wide",
    "9:16": "Story",
}
PROVIDER_LABELS = {
    "local": "Intaglio's own renderer",
    "wavespeed": "WaveSpeed AI",
    "openrouter": "OpenRouter",
}
ANALYSIS_PROVIDER_LABELS = {
    "local": "Intaglio's own analyser",
    "openrouter": "OpenRouter",
}
# (label, tone) per job state of a generation; the tone picks the badge colour as on the other pages.
GENERATION_STATES = {
    JobState.QUEUED: ("Queued", "wait"),
    JobState.RUNNING: ("Working", "busy"),
    JobState.WAITING_PROVIDER: ("Waiting for the image service", "busy"),
    JobState.SUCCEEDED: ("Done", "ok"),
    JobState.FAILED: ("Failed", "bad"),
    JobState.CANCELLED: ("Cancelled", "off"),
}
# What the piece list says about each piece's analysis.
ANALYSIS_STATES = {
    "analysing": ("Analysing…", "busy"),
    "to_confirm": ("Analysed · please check", "wait"),
    "confirmed": ("Confirmed", "ok"),
    "failed": ("Analysis failed", "bad"),
    "none": ("Not analysed", "off"),
}


def _with_unknown(words: tuple[str, ...], labels: dict[str, str]) -> list[tuple[str, str]]:
    return [(word, labels.get(word, word.replace("_", " ").capitalize())) for word in words] + [
        (vocabulary.UNKNOWN, NOT_SURE)
    ]


TYPE_CHOICES = _with_unknown(vocabulary.PIECE_TYPES, TYPE_LABELS)
METAL_CHOICES = _with_unknown(vocabulary.METALS, METAL_LABELS)
FINISH_CHOICES = _with_unknown(vocabulary.FINISHES, FINISH_LABELS)
STONE_COLOUR_CHOICES = _with_unknown(vocabulary.STONE_COLOURS, STONE_COLOUR_LABELS)
STONE_CUT_CHOICES = _with_unknown(vocabulary.STONE_CUTS, STONE_CUT_LABELS)
SHOT_CHOICES = _with_unknown(vocabulary.SHOT_TYPES, SHOT_LABELS)
VARIANT_METAL_CHOICES = [(metal, METAL_LABELS[metal], METAL_HINTS[metal]) for metal in vocabulary.VARIANT_METALS]
PRESET_CHOICES = [(name, preset.label, PRESET_HINTS.get(name, "")) for name, preset in PRESETS.items()]
ASPECT_CHOICES = [(ratio, ASPECT_LABELS.get(ratio, ratio), ratio.replace(":", "-")) for ratio in ASPECT_RATIOS]
ANGLE_LABELS = {
    "as_reference": "As in the references",
    "front": "Front",
    "three_quarter": "Three-quarter",
    "side": "Side",
    "top": "From above",
}
SHADOW_LABELS = {"soft": "Soft shadow and reflection", "none": "No shadow"}


def label(labels: dict[str, str], word: str | None) -> str:
    if not word or word == vocabulary.UNKNOWN:
        return NOT_SURE
    return labels.get(word, word.replace("_", " ").capitalize())


def preset_label(name: str) -> str:
    preset = PRESETS.get(name)
    return preset.label if preset else name.replace("_", " ").capitalize()


def metal_label(metal: str | None) -> str:
    return METAL_LABELS.get(metal, "As analysed") if metal else "As analysed"


def provider_label(name: str, *, analysis: bool = False) -> str:
    labels = ANALYSIS_PROVIDER_LABELS if analysis else PROVIDER_LABELS
    return labels.get(name, name)


# What a generation's Content Credentials say (jewellery.credentials.source_type): (headline, the IPTC term in words).
SOURCE_TYPE_LABELS = {
    TRAINED_ALGORITHMIC_MEDIA: ("Marked as AI-generated.", "trained algorithmic media"),
    COMPOSITE_SYNTHETIC: ("Marked as a computer-made composite.", "composite with synthetic elements"),
}
