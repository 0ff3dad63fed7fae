"""The jewellery studio as its pages show it: the piece's analysis and the attributes form with how sure each guess
was, the brief with its price and prompts, and each generation with its images."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass

import pydantic
from django.conf import settings
from django.contrib import messages

from intaglio.credits.selectors import credit_balance
from intaglio.imaging.jewellery import vocabulary
from intaglio.jewellery import selectors
from intaglio.jewellery.credentials import source_type
from intaglio.jewellery.models import Generation, Piece
from intaglio.jewellery.params import Brief
from intaglio.jewellery.services import ReferencesRefused, piece_analysis
from intaglio.jobs import selectors as job_selectors
from intaglio.jobs.kinds import get_kind
from intaglio.jobs.models import TERMINAL_STATES, JobState
from intaglio.web.jewellery import labels
from intaglio.web.jewellery.forms import UPLOAD_FIELD, stone_key
from intaglio.web.shared import upload_form_context

# Rows for stone groups on the form (more when the analysis found more).
STONE_ROWS = 3
LOW_CONFIDENCE = 0.5


def analysis_state(piece: Piece) -> str:
    if piece.confirmed_at:
        return "confirmed"
    job = piece.analysis_job
    if job is None:
        return "none"
    if job.state not in TERMINAL_STATES:
        return "analysing"
    if job.state == JobState.SUCCEEDED and piece_analysis(piece):
        return "to_confirm"
    return "failed"


def references_context(piece: Piece) -> dict:
    previews = selectors.reference_previews(piece)
    missing = [reference.pk for reference, thumb in previews if thumb is None]
    pending = job_selectors.previews_pending(owner=piece.owner, asset_ids=missing)
    return {
        "references": [
            {"number": number, "asset": reference, "thumb": thumb}
            for number, (reference, thumb) in enumerate(previews, 1)
        ],
        "references_pending": pending,
    }


# ------------------------------------------------------------------------------ step 2: the attributes form


def _guess_badge(current: str, guess: dict | None, *, confirmed: bool) -> dict:
    """What the small badge beside a field says: how sure the analysis was, or that the user set it."""
    if guess is None:
        return {"text": "", "low": False, "mine": confirmed}
    if current != guess["value"]:
        return {"text": "Set by you", "low": False, "mine": True}
    return _sure_badge(float(guess["confidence"]), confirmed=confirmed)


def _sure_badge(confidence: float, *, confirmed: bool) -> dict:
    """Sure or Not sure, never a percentage: the local analyser's confidence is a calibrated score whose
    threshold is where its answers are right 9 times in 10 on real photos, not a probability to read as one."""
    low = confidence < LOW_CONFIDENCE
    text = "Sure" if not low else ("Checked by you" if confirmed else "Not sure")
    return {"text": text, "low": low and not confirmed, "mine": low and confirmed}


def _choice_field(name: str, title: str, choices, values: dict, analysed: dict | None, confirmed: bool) -> dict:
    current = values[name]["value"]
    return {
        "name": name,
        "label": title,
        "choices": choices,
        "value": current,
        "badge": _guess_badge(current, analysed[name] if analysed else None, confirmed=confirmed),
    }


def _stone_rows(values: dict, analysed: dict | None, confirmed: bool) -> list[dict]:
    stones = values.get("stones") or []
    found = (analysed or {}).get("stones") or []
    rows = []
    for index in range(max(STONE_ROWS, len(stones))):
        group = stones[index] if index < len(stones) else None
        guess = found[index] if index < len(found) else None
        badge = {"text": "", "low": False, "mine": False}
        if group is not None and guess is not None:
            if stone_key(group) == stone_key(guess):
                badge = _sure_badge(float(guess["confidence"]), confirmed=confirmed)
            else:
                badge = {"text": "Set by you", "low": False, "mine": True}
        count = group["count"] if group else None
        rows.append(
            {
                "index": index,
                "number": index + 1,
                "colour": group["colour"] if group else "",
                "count": "" if count in (None, 0) else count,
                "cut": group["cut"] if group else vocabulary.UNKNOWN,
                "badge": badge,
            }
        )
    return rows


def _stones_badge(values: dict, analysed: dict | None, confirmed: bool) -> dict:
    if analysed is None:
        return {"text": "", "low": False, "mine": False}
    same = [stone_key(g) for g in values.get("stones") or []] == [stone_key(g) for g in analysed["stones"]]
    if not same:
        return {"text": "Set by you", "low": False, "mine": True}
    return _sure_badge(float(analysed["stones_confidence"]), confirmed=confirmed)


def attributes_context(piece: Piece, references: list[dict], *, values: dict | None = None, error: str = "") -> dict:
    job = piece.analysis_job
    analysed = piece_analysis(piece)
    running = job is not None and job.state not in TERMINAL_STATES
    confirmed = piece.attributes is not None
    values = values or piece.attributes or analysed
    context = {
        "piece": piece,
        "analysis_job": job,
        "analysis_running": running,
        "analysis_state": analysis_state(piece),
        "confirmed": confirmed,
        "attributes_error": error,
        "show_form": values is not None and not (running and not confirmed),
        "analysed_by": "",
    }
    if job is not None and job.result:
        context["analysed_by"] = labels.provider_label(job.result.get("provider", ""), analysis=True)
        context["analysed_model"] = job.result.get("model", "")
    if not context["show_form"]:
        return context
    shots = values.get("shots") or []
    found_shots = (analysed or {}).get("shots") or []
    low = []
    fields = [
        _choice_field("type", "Type of piece", labels.TYPE_CHOICES, values, analysed, confirmed),
        _choice_field("metal", "Metal", labels.METAL_CHOICES, values, analysed, confirmed),
        _choice_field("finish", "Finish", labels.FINISH_CHOICES, values, analysed, confirmed),
    ]
    low += [f["label"] for f in fields if f["badge"]["low"]]
    stones_badge = _stones_badge(values, analysed, confirmed)
    if stones_badge["low"]:
        low.append("Stones")
    shot_rows = []
    for index, reference in enumerate(references):
        current = shots[index]["value"] if index < len(shots) else vocabulary.UNKNOWN
        guess = found_shots[index] if index < len(found_shots) else None
        badge = _guess_badge(current, guess, confirmed=confirmed)
        if badge["low"]:
            low.append(f"Reference {index + 1}")
        shot_rows.append({"index": index, "reference": reference, "value": current, "badge": badge})
    context.update(
        fields=fields,
        stone_rows=_stone_rows(values, analysed, confirmed),
        no_stones=not values.get("stones"),
        stones_badge=stones_badge,
        shot_rows=shot_rows,
        low_fields=low,
        type_choices=labels.TYPE_CHOICES,
        stone_colour_choices=labels.STONE_COLOUR_CHOICES,
        stone_cut_choices=labels.STONE_CUT_CHOICES,
        shot_choices=labels.SHOT_CHOICES,
    )
    return context


# Under an image whose piece was enlarged at least this much from its reference, the studio says so.
ENLARGED_NOTE = 1.5


def _default_brief(piece: Piece) -> dict:
    """The choices as the user last left them; else those of the latest generation, so trying another metal keeps
    the rest; else the defaults."""
    for remembered in (piece.brief,) if piece.brief else ():
        with contextlib.suppress(pydantic.ValidationError, TypeError):  # a choice withdrawn since must not break it
            return Brief.model_validate(remembered).model_dump()
    latest = selectors.generation_list(piece=piece).first()
    if latest is not None:
        params = latest.job.params or {}
        with contextlib.suppress(pydantic.ValidationError, TypeError):  # an old generation must not break the page
            chosen = {name: params[name] for name in Brief.model_fields if name in params}
            return Brief.model_validate(chosen).model_dump()
    return Brief().model_dump()


def image_count(brief: dict) -> int:
    try:
        return max(1, int(brief["variants"])) * max(1, len(brief["metals"]))
    except (TypeError, ValueError):
        return 1


def price_context(user, images: int, cost: int | None = None) -> dict:
    kind = get_kind("jewellery.generate")
    price = kind.cost * images if cost is None else cost
    balance = credit_balance(user=user)
    return {"price": price, "price_images": images, "balance": balance, "short": price > balance}


def preset_choices(offered: dict[str, bool]) -> list[tuple[str, str, str, bool]]:
    """(name, label, hint, available) per preset, those the configured provider can make first; the others are
    shown, not offered."""
    choices = [(name, label, hint, offered.get(name, False)) for name, label, hint in labels.PRESET_CHOICES]
    return sorted(choices, key=lambda choice: not choice[3])


def _generate_context(user, piece: Piece, *, brief: dict | None, error: str, key: str | None) -> dict:
    brief = brief or _default_brief(piece)
    offered, new_angles = selectors.presets_offered(), selectors.angles_offered()
    if not offered.get(brief.get("preset"), False):  # an earlier choice this renderer cannot make is not preselected
        brief = {**brief, "preset": next((name for name, ok in offered.items() if ok), brief.get("preset"))}
    return {
        "brief": brief,
        "generate_error": error,
        "idempotency_key": key or uuid.uuid4().hex,
        "preset_choices": preset_choices(offered),
        "aspect_choices": labels.ASPECT_CHOICES,
        # (value, label, available): another angle than the references' needs an image service
        "angle_choices": [
            (value, label, value == "as_reference" or new_angles) for value, label in labels.ANGLE_LABELS.items()
        ],
        "shadow_choices": list(labels.SHADOW_LABELS.items()),
        "variant_choices": [1, 2, 3, 4],
        "metal_choices": labels.VARIANT_METAL_CHOICES,
        "can_generate": piece.attributes is not None,
        "kits": list(selectors.style_kits(owner=user)),
        **price_context(user, image_count(brief)),
    }


def distinct_prompts(images: list[dict], metals_chosen: bool) -> list[dict]:
    """Each different prompt once, with the images it makes (1-based)."""
    prompts: list[dict] = []
    for image in images:
        same = next((p for p in prompts if p["text"] == image["prompt"]), None)
        if same is None:
            same = {
                "text": image["prompt"],
                "metal": labels.metal_label(image["metal"]) if metals_chosen else "",
                "images": [],
            }
            prompts.append(same)
        same["images"].append(image["index"] + 1)
    return prompts


# ---------------------------------------------------------------------------------------- generations


@dataclass
class GenerationRow:
    generation: Generation
    number: int
    state: str
    state_label: str
    tone: str
    in_flight: bool
    summary: list[str]
    provider: str
    model: str
    template_version: str
    prompts: list[dict]
    images: list[dict]
    ratio_class: str
    credits_note: str
    downloads: int
    aspect: str
    # What the Content Credentials say of its images (jewellery.credentials), and a file name to show checking one
    # ("image.jpg": the image's own format).
    marked_as: tuple[str, str] = ("", "")
    example_file: str = ""


def _credits_note(job) -> str:
    credits = job.credits_reserved
    unit = f"{credits} credit{'s' if credits != 1 else ''}"
    if job.state in (JobState.FAILED, JobState.CANCELLED):
        return f"{unit} returned" if credits else "No credits used"
    if job.state == JobState.SUCCEEDED:
        return unit
    return f"{unit} held"


def generation_row(generation: Generation, number: int) -> GenerationRow:
    job = generation.job
    params = job.params or {}
    state_label, tone = labels.GENERATION_STATES.get(job.state, (job.state, "off"))
    in_flight = job.state not in TERMINAL_STATES
    if job.state == JobState.RUNNING and job.cancel_requested:
        state_label = "Stopping"
    metals_chosen = bool(params.get("metals"))
    outputs = {asset.role: asset for asset in job.outputs.all()}
    checks = {check.image_id: check for check in generation.design_checks.all()}
    plans = params.get("images") or []
    variants = params.get("variants") or 1
    images = []
    for plan in plans:
        index = plan["index"]
        if metals_chosen:
            variant = 1 + sum(1 for other in plans[:index] if other.get("metal") == plan.get("metal"))
            caption = labels.metal_label(plan.get("metal")) + (f" · {variant}" if variants > 1 else "")
        else:
            caption = f"Variant {index + 1}" if len(plans) > 1 else "As analysed"
        enlarged = float(((job.result or {}).get("enlarged") or {}).get(f"image-{index}") or 1.0)
        asset = outputs.get(f"image-{index}")
        images.append(
            {
                "index": index,
                "caption": caption,
                "asset": asset,
                "check": checks.get(asset.pk) if asset is not None else None,
                # a piece enlarged well past its reference's pixels is softer than a larger photo would make it
                "enlarged": f"{enlarged:.1f}".rstrip("0").rstrip(".") if enlarged >= ENLARGED_NOTE else "",
            }
        )
    aspect = params.get("aspect_ratio", "1:1")
    count = len(plans)
    summary = [
        labels.preset_label(params.get("preset", "")),
        f"{aspect} {labels.ASPECT_LABELS.get(aspect, '').lower()}".strip(),
        f"{count} image{'s' if count != 1 else ''}",
    ]
    if metals_chosen:
        summary.append(", ".join(labels.metal_label(metal) for metal in params["metals"]))
    if params.get("regenerates") is not None:
        summary.append("Free regeneration of a flagged image")
    return GenerationRow(
        generation=generation,
        number=number,
        state=job.state,
        state_label=state_label,
        tone=tone,
        in_flight=in_flight,
        summary=summary,
        provider=labels.provider_label(params.get("provider", "")),
        model=params.get("model", ""),
        template_version=params.get("template_version", ""),
        prompts=distinct_prompts(plans, metals_chosen),
        images=images,
        ratio_class="ratio-" + aspect.replace(":", "-"),
        credits_note=_credits_note(job),
        downloads=sum(1 for image in images if image["asset"] is not None),
        aspect=aspect,
        marked_as=labels.SOURCE_TYPE_LABELS[source_type(params.get("provider", ""))],
        example_file=next(
            ("image." + image["asset"].download_name.rsplit(".", 1)[-1] for image in images if image["asset"]), ""
        ),
    )


def generations_context(piece: Piece) -> dict:
    generations = list(selectors.generation_list(piece=piece))
    rows = [generation_row(g, len(generations) - i) for i, g in enumerate(generations)]
    return {"piece": piece, "generations": rows, "generations_active": any(row.in_flight for row in rows)}


def piece_context(
    user,
    piece: Piece,
    *,
    attributes: dict | None = None,
    attributes_error: str = "",
    brief: dict | None = None,
    generate_error: str = "",
    idempotency_key: str | None = None,
) -> dict:
    references = references_context(piece)
    return {
        "piece": piece,
        **references,
        **attributes_context(piece, references["references"], values=attributes, error=attributes_error),
        **_generate_context(user, piece, brief=brief, error=generate_error, key=idempotency_key),
        **generations_context(piece),
    }


def piece_cards(*, owner) -> list[dict]:
    """The piece list: each piece with its first reference's thumbnail and the state of its analysis."""
    cards = []
    for piece in selectors.piece_list_with_counts(owner=owner):
        previews = selectors.reference_previews(piece)
        first = previews[0] if previews else (None, None)
        state = analysis_state(piece)
        state_label, tone = labels.ANALYSIS_STATES[state]
        cards.append(
            {
                "piece": piece,
                "picture": first[1],
                "reference_count": len(previews),
                "state": state,
                "state_label": state_label,
                "tone": tone,
            }
        )
    return cards


def new_piece_context(user, *, refusal=None, **extra) -> dict:
    """The new-piece form; after a refused upload, its message and (when several files were refused) each file's
    reason on its own line."""
    if isinstance(refusal, ReferencesRefused) and refusal.headline:
        extra["error"], extra["error_lines"] = refusal.headline, refusal.lines
    elif refusal is not None:
        extra["error"] = refusal.message
    return {
        "upload_field": UPLOAD_FIELD,
        **upload_form_context(),
        "max_references": min(settings.UPLOAD_MAX_FILES, 10),
        "analysis_cost": get_kind("jewellery.analyse").cost,
        "balance": credit_balance(user=user),
        **extra,
    }


def generation_numbered(generation: Generation) -> GenerationRow:
    """A generation's row with its number among the piece's generations (the first made is 1)."""
    ids = selectors.generation_ids(piece=generation.piece)
    return generation_row(generation, len(ids) - ids.index(generation.pk))


def piece_remove_context(piece: Piece) -> dict:
    rows = generations_context(piece)["generations"]
    return {
        "piece": piece,
        "reference_count": selectors.reference_count(piece=piece),
        "generation_count": len(rows),
        "image_count": sum(row.downloads for row in rows),
        "in_flight": sum(1 for row in rows if row.in_flight),
    }


def generation_cancel_message(job) -> tuple[int, str]:
    """(message level, text) after cancelling a generation."""
    if job.state == JobState.CANCELLED:
        return messages.SUCCESS, "Generation cancelled. The credits it held are back in your balance."
    if job.cancel_requested and job.state not in TERMINAL_STATES:
        return messages.INFO, "Stopping the generation: it ends at its next step and returns its credits."
    return messages.INFO, "This generation had already finished, so there was nothing to cancel."


# --- style kits and batches


def brief_summary(brief: dict) -> str:
    """A brief in a line: "White packshot · 4:5 · 2 variants · Rose gold, White metal"."""
    presets = {value: label for value, label, _hint in labels.PRESET_CHOICES}
    metals = {value: label for value, label, _hint in labels.VARIANT_METAL_CHOICES}
    words = [presets.get(brief.get("preset"), str(brief.get("preset"))), str(brief.get("aspect_ratio"))]
    if brief.get("angle", "as_reference") != "as_reference":
        words.append(labels.ANGLE_LABELS.get(brief["angle"], brief["angle"]) + " view")
    if brief.get("shadow") == "none":
        words.append("no shadow")
    variants = brief.get("variants") or 1
    words.append(f"{variants} variant{'s' if variants != 1 else ''}")
    if brief.get("metals"):
        words.append(", ".join(metals.get(metal, metal) for metal in brief["metals"]))
    return " · ".join(words)


def kit_rows(owner) -> list[dict]:
    return [{"kit": kit, "summary": brief_summary(kit.brief)} for kit in selectors.style_kits(owner=owner)]


def batch_new_context(owner, *, chosen: list[int] | None = None, kit_id: int | None = None, error: str = "") -> dict:
    pieces = list(selectors.piece_list(owner=owner))
    return {
        "pieces": [{"piece": piece, "ready": piece.attributes is not None} for piece in pieces],
        "kits": kit_rows(owner),
        "chosen": set(chosen or [piece.pk for piece in pieces if piece.attributes is not None]),
        "kit_id": kit_id,
        "error": error,
        "balance": credit_balance(user=owner),
    }


def batch_quote_context(owner, *, pieces, kit, quote: dict) -> dict:
    titles = {piece.pk: str(piece) for piece in pieces}
    return {
        "kit": kit,
        "summary": brief_summary(kit.brief),
        "lines": [{**line, "title": titles[line["piece_id"]]} for line in quote["pieces"]],
        "quote": quote,
        "short": quote["credits"] > quote["balance"],
        "after": quote["balance"] - quote["credits"],
        "idempotency_key": uuid.uuid4().hex,
    }


BATCH_STATE_LABELS = {
    "waiting": ("Waiting for a free slot", "off"),
    "skipped": ("Not generated", "error"),
    "queued": ("Queued", "busy"),
    "running": ("Generating", "busy"),
    "waiting_provider": ("Generating", "busy"),
    "succeeded": ("Done", "ok"),
    "failed": ("Failed", "error"),
    "cancelled": ("Cancelled", "off"),
}


def batch_context(batch) -> dict:
    rows = selectors.batch_progress(batch)
    for row in rows:
        row["label"], row["tone"] = BATCH_STATE_LABELS.get(row["state"], (row["state"], "off"))
    finished = sum(row["state"] in ("succeeded", "failed", "cancelled", "skipped") for row in rows)
    return {
        "batch": batch,
        "summary": brief_summary(batch.brief),
        "rows": rows,
        "finished": finished,
        "in_progress": finished < len(rows),
    }
