"""The words jewellery analysis answers in. Shared by the local analyser, the remote one's JSON schema, prompt
templates and the evaluation harness, so every part speaks the same vocabulary."""

UNKNOWN = "unknown"

PIECE_TYPES = ("ring", "earrings", "necklace", "pendant", "bracelet", "brooch", "other")
METALS = ("yellow_gold", "rose_gold", "white_metal", "mixed")
STONE_COLOURS = ("colourless", "red", "pink", "orange", "yellow", "green", "blue", "purple", "black", "multicolour")
STONE_CUTS = ("round", "oval", "pear", "marquise", "emerald", "princess", "cushion", "cabochon", "other")
FINISHES = ("polished", "matte", "brushed", "hammered", "textured")
SHOT_TYPES = ("packshot", "lifestyle", "on_model", "cad_render", "sketch")

# Metals a user can ask variants in (a "mixed" piece is not a colour one can recolour to).
VARIANT_METALS = ("yellow_gold", "rose_gold", "white_metal")
