"""The jewellery forms read into the shapes the services take: the confirmed attributes and the brief."""

from __future__ import annotations

from intaglio.imaging.jewellery import vocabulary

# The upload field of the new-piece form.
UPLOAD_FIELD = "references"


def stone_key(group: dict) -> tuple:
    return (group["colour"], group["count"], group["cut"])


def number(raw: str | None):
    """A whole number from a form field; anything else is passed on, so validation names the field."""
    if raw is None or not raw.strip():
        return None
    try:
        return int(raw)
    except ValueError:
        return raw


def _kept(name: str, value, base: dict | None) -> dict:
    """A {value, confidence} guess: the analysed confidence when the user left it, certainty when they set it."""
    if base is not None and base.get(name, {}).get("value") == value:
        return {"value": value, "confidence": base[name]["confidence"]}
    return {"value": value, "confidence": 1.0}


def attributes_from_form(data, *, base: dict | None, reference_count: int) -> dict:
    """The confirm form → the Attributes shape piece_confirm takes."""
    attributes = {name: _kept(name, data.get(name) or vocabulary.UNKNOWN, base) for name in ("type", "metal", "finish")}
    base_stones = (base or {}).get("stones") or []
    stones = []
    if "no_stones" not in data:
        for index in range(6):
            colour = data.get(f"stone-{index}-colour")
            if not colour:
                continue
            count = number(data.get(f"stone-{index}-count"))
            group = {"colour": colour, "count": 0 if count is None else count, "cut": data.get(f"stone-{index}-cut")}
            group["cut"] = group["cut"] or vocabulary.UNKNOWN
            guess = base_stones[len(stones)] if len(stones) < len(base_stones) else None
            same = guess is not None and stone_key(group) == stone_key(guess)
            stones.append({**group, "confidence": guess["confidence"] if same else 1.0})
    attributes["stones"] = stones
    unchanged = base is not None and [stone_key(g) for g in stones] == [stone_key(g) for g in base_stones]
    attributes["stones_confidence"] = base["stones_confidence"] if unchanged else 1.0
    base_shots = (base or {}).get("shots") or []
    shots = []
    for index in range(reference_count):
        value = data.get(f"shot-{index}") or vocabulary.UNKNOWN
        guess = base_shots[index] if index < len(base_shots) else None
        same = guess is not None and guess["value"] == value
        shots.append({"value": value, "confidence": guess["confidence"] if same else 1.0})
    attributes["shots"] = shots
    return attributes


# ----------------------------------------------------------------------------------- step 3: the brief


def brief_from_form(data) -> dict:
    variants = number(data.get("variants"))
    return {
        "preset": data.get("preset") or "white_packshot",
        "aspect_ratio": data.get("aspect_ratio") or "1:1",
        "angle": data.get("angle") or "as_reference",
        "shadow": data.get("shadow") or "soft",
        "variants": 1 if variants is None else variants,
        "metals": data.getlist("metals"),
    }
