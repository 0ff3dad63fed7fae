"""The words jewellery analysis answers in. Shared by the local analyser, the remote one's JSON schema, prompt
templates and the evaluation harness, so every part speaks the same vocabulary.

Reached through the package (``from intaglio.imaging.jewellery import METALS``); the module itself stays importable
(``from intaglio.imaging.jewellery import vocabulary``) for callers that want the whole set."""

__all__ = [
    "FINISHES",
    "METALS",
    "PIECE_TYPES",
    "SHOT_TYPES",
    "STONE_COLOURS",
    "STONE_CUTS",
    "UNKNOWN",
    "VARIANT_METALS",
]

#: The answer when the evidence is too weak; allowed besides every tuple below.
UNKNOWN = "unknown"

#: What the piece is.
PIECE_TYPES = ("ring", "earrings", "necklace", "pendant", "bracelet", "brooch", "other")
#: The colour of its metal ("white_metal": white gold, platinum or silver, which a picture does not tell apart).
METALS = ("yellow_gold", "rose_gold", "white_metal", "mixed")
#: The colour of a group of stones.
STONE_COLOURS = ("colourless", "red", "pink", "orange", "yellow", "green", "blue", "purple", "black", "multicolour")
#: The cut of a group of stones.
STONE_CUTS = ("round", "oval", "pear", "marquise", "emerald", "princess", "cushion", "cabochon", "other")
#: The surface finish of the metal.
FINISHES = ("polished", "matte", "brushed", "hammered", "textured")
#: What kind of picture a reference image is.
SHOT_TYPES = ("packshot", "lifestyle", "on_model", "cad_render", "sketch")

# Metals a user can ask variants in (a "mixed" piece is not a colour one can recolour to).
VARIANT_METALS = ("yellow_gold", "rose_gold", "white_metal")
