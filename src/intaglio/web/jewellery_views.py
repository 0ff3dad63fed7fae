"""Jewellery studio pages: pieces from reference images, checking what analysis found, the prompt in plain view,
generations and their images. Thin: each view reads the form, calls one service or selector and renders."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass

import pydantic
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from intaglio.assets.services import UploadRefused
from intaglio.assets.uploads import check_file_count, check_upload_request
from intaglio.credits.selectors import credit_balance
from intaglio.imaging.ingest import ACCEPTED_HUMAN
from intaglio.imaging.jewellery.vocabulary import UNKNOWN
from intaglio.jewellery import selectors
from intaglio.jewellery.models import Generation, Piece
from intaglio.jewellery.params import Brief
from intaglio.jewellery.services import (
    JewelleryRefused,
    brief_validate,
    generation_create,
    generation_delete,
    generation_plan,
    piece_analysis,
    piece_confirm,
    piece_create,
    piece_delete,
    piece_reanalyse,
)
from intaglio.jobs import selectors as job_selectors
from intaglio.jobs.kinds import get_kind
from intaglio.jobs.models import TERMINAL_STATES, JobState
from intaglio.jobs.services import JobRefused, job_cancel
from intaglio.web import jewellery_labels as labels
from intaglio.web.views import UPLOAD_ACCEPT, fragment_login_required

UPLOAD_FIELD = "references"
# Rows for stone groups on the form (more when the analysis found more).
STONE_ROWS = 3
LOW_CONFIDENCE = 0.5
# Idempotency keys of generations made from the page carry this prefix, so they never meet another kind's keys.
KEY_PREFIX = "jewellery-page:"


def _owned_piece(request, piece_id: int) -> Piece:
    piece = selectors.piece_get(owner=request.user, piece_id=piece_id)
    if piece is None:
        raise Http404("No such piece")
    return piece


def _owned_generation(request, generation_id: int) -> Generation:
    generation = selectors.generation_get(owner=request.user, generation_id=generation_id)
    if generation is None:
        raise Http404("No such generation")
    return generation


def _back_to(piece: Piece, anchor: str) -> str:
    return reverse("jewellery-piece", args=[piece.pk]) + f"#{anchor}"


def _number(raw: str | None):
    """A whole number from a form field; anything else is passed on, so validation names the field."""
    if raw is None or not raw.strip():
        return None
    try:
        return int(raw)
    except ValueError:
        return raw


# --------------------------------------------------------------------------------------- the piece's state


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


def _references_context(piece: Piece) -> dict:
    previews = selectors.reference_previews(piece)
    missing = [reference.pk for reference, thumb in previews if thumb is None]
    pending = bool(missing) and (
        job_selectors.job_list(owner=piece.owner)
        .filter(kind="preview", inputs__in=missing)
        .exclude(state__in=TERMINAL_STATES)
        .exists()
    )
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
    confidence = float(guess["confidence"])
    return {
        "text": f"{round(confidence * 100)} % sure",
        "low": confidence < LOW_CONFIDENCE and not confirmed,
        "mine": False,
    }


def _choice_field(name: str, title: str, choices, values: dict, analysed: dict | None, confirmed: bool) -> dict:
    current = values[name]["value"]
    return {
        "name": name,
        "label": title,
        "choices": choices,
        "value": current,
        "badge": _guess_badge(current, analysed[name] if analysed else None, confirmed=confirmed),
    }


def _stone_key(group: dict) -> tuple:
    return (group["colour"], group["count"], group["cut"])


def _stone_rows(values: dict, analysed: dict | None, confirmed: bool) -> list[dict]:
    stones = values.get("stones") or []
    found = (analysed or {}).get("stones") or []
    rows = []
    for index in range(max(STONE_ROWS, len(stones))):
        group = stones[index] if index < len(stones) else None
        guess = found[index] if index < len(found) else None
        badge = {"text": "", "low": False, "mine": False}
        if group is not None and guess is not None:
            if _stone_key(group) == _stone_key(guess):
                confidence = float(guess["confidence"])
                badge = {
                    "text": f"{round(confidence * 100)} % sure",
                    "low": confidence < LOW_CONFIDENCE and not confirmed,
                    "mine": False,
                }
            else:
                badge = {"text": "Set by you", "low": False, "mine": True}
        count = group["count"] if group else None
        rows.append(
            {
                "index": index,
                "number": index + 1,
                "colour": group["colour"] if group else "",
                "count": "" if count in (None, 0) else count,
                "cut": group["cut"] if group else UNKNOWN,
                "badge": badge,
            }
        )
    return rows


def _stones_badge(values: dict, analysed: dict | None, confirmed: bool) -> dict:
    if analysed is None:
        return {"text": "", "low": False, "mine": False}
    same = [_stone_key(g) for g in values.get("stones") or []] == [_stone_key(g) for g in analysed["stones"]]
    if not same:
        return {"text": "Set by you", "low": False, "mine": True}
    confidence = float(analysed["stones_confidence"])
    return {
        "text": f"{round(confidence * 100)} % sure",
        "low": confidence < LOW_CONFIDENCE and not confirmed,
        "mine": False,
    }


def _attributes_context(piece: Piece, references: list[dict], *, values: dict | None = None, error: str = "") -> dict:
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
        current = shots[index]["value"] if index < len(shots) else UNKNOWN
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


def _kept(name: str, value, base: dict | None) -> dict:
    """A {value, confidence} guess: the analysed confidence when the user left it, certainty when they set it."""
    if base is not None and base.get(name, {}).get("value") == value:
        return {"value": value, "confidence": base[name]["confidence"]}
    return {"value": value, "confidence": 1.0}


def attributes_from_form(data, *, base: dict | None, reference_count: int) -> dict:
    """The confirm form → the Attributes shape piece_confirm takes."""
    attributes = {name: _kept(name, data.get(name) or UNKNOWN, base) for name in ("type", "metal", "finish")}
    base_stones = (base or {}).get("stones") or []
    stones = []
    if "no_stones" not in data:
        for index in range(6):
            colour = data.get(f"stone-{index}-colour")
            if not colour:
                continue
            count = _number(data.get(f"stone-{index}-count"))
            group = {"colour": colour, "count": 0 if count is None else count, "cut": data.get(f"stone-{index}-cut")}
            group["cut"] = group["cut"] or UNKNOWN
            guess = base_stones[len(stones)] if len(stones) < len(base_stones) else None
            same = guess is not None and _stone_key(group) == _stone_key(guess)
            stones.append({**group, "confidence": guess["confidence"] if same else 1.0})
    attributes["stones"] = stones
    unchanged = base is not None and [_stone_key(g) for g in stones] == [_stone_key(g) for g in base_stones]
    attributes["stones_confidence"] = base["stones_confidence"] if unchanged else 1.0
    base_shots = (base or {}).get("shots") or []
    shots = []
    for index in range(reference_count):
        value = data.get(f"shot-{index}") or UNKNOWN
        guess = base_shots[index] if index < len(base_shots) else None
        same = guess is not None and guess["value"] == value
        shots.append({"value": value, "confidence": guess["confidence"] if same else 1.0})
    attributes["shots"] = shots
    return attributes


# ----------------------------------------------------------------------------------- step 3: the brief


def brief_from_form(data) -> dict:
    variants = _number(data.get("variants"))
    return {
        "preset": data.get("preset") or "white_packshot",
        "aspect_ratio": data.get("aspect_ratio") or "1:1",
        "variants": 1 if variants is None else variants,
        "metals": data.getlist("metals"),
    }


def _default_brief(piece: Piece) -> dict:
    """The choices of the latest generation, so trying another metal keeps the rest; else the defaults."""
    latest = selectors.generation_list(piece=piece).first()
    if latest is not None:
        params = latest.job.params or {}
        with contextlib.suppress(pydantic.ValidationError, TypeError):  # an old generation must not break the page
            return Brief.model_validate({name: params.get(name) for name in Brief.model_fields}).model_dump()
    return Brief().model_dump()


def _image_count(brief: dict) -> int:
    try:
        return max(1, int(brief["variants"])) * max(1, len(brief["metals"]))
    except (TypeError, ValueError):
        return 1


def _price_context(request, images: int, cost: int | None = None) -> dict:
    kind = get_kind("jewellery.generate")
    price = kind.cost * images if cost is None else cost
    balance = credit_balance(user=request.user)
    return {"price": price, "price_images": images, "balance": balance, "short": price > balance}


def _generate_context(request, piece: Piece, *, brief: dict | None, error: str, key: str | None) -> dict:
    brief = brief or _default_brief(piece)
    return {
        "brief": brief,
        "generate_error": error,
        "idempotency_key": key or uuid.uuid4().hex,
        "preset_choices": labels.PRESET_CHOICES,
        "aspect_choices": labels.ASPECT_CHOICES,
        "variant_choices": [1, 2, 3, 4],
        "metal_choices": labels.VARIANT_METAL_CHOICES,
        "can_generate": piece.attributes is not None,
        **_price_context(request, _image_count(brief)),
    }


def _distinct_prompts(images: list[dict], metals_chosen: bool) -> list[dict]:
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


def _credits_note(job) -> str:
    credits = job.credits_reserved
    unit = f"{credits} credit{'s' if credits != 1 else ''}"
    if job.state in (JobState.FAILED, JobState.CANCELLED):
        return f"{unit} returned" if credits else "No credits used"
    if job.state == JobState.SUCCEEDED:
        return unit
    return f"{unit} held"


def _generation_row(generation: Generation, number: int) -> GenerationRow:
    job = generation.job
    params = job.params or {}
    state_label, tone = labels.GENERATION_STATES.get(job.state, (job.state, "off"))
    in_flight = job.state not in TERMINAL_STATES
    if job.state == JobState.RUNNING and job.cancel_requested:
        state_label = "Stopping"
    metals_chosen = bool(params.get("metals"))
    outputs = {asset.role: asset for asset in job.outputs.all()}
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
        images.append({"index": index, "caption": caption, "asset": outputs.get(f"image-{index}")})
    aspect = params.get("aspect_ratio", "1:1")
    count = len(plans)
    summary = [
        labels.preset_label(params.get("preset", "")),
        f"{aspect} {labels.ASPECT_LABELS.get(aspect, '').lower()}".strip(),
        f"{count} image{'s' if count != 1 else ''}",
    ]
    if metals_chosen:
        summary.append(", ".join(labels.metal_label(metal) for metal in params["metals"]))
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
        prompts=_distinct_prompts(plans, metals_chosen),
        images=images,
        ratio_class="ratio-" + aspect.replace(":", "-"),
        credits_note=_credits_note(job),
        downloads=sum(1 for image in images if image["asset"] is not None),
        aspect=aspect,
    )


def _generations_context(piece: Piece) -> dict:
    generations = list(selectors.generation_list(piece=piece))
    rows = [_generation_row(g, len(generations) - i) for i, g in enumerate(generations)]
    return {"piece": piece, "generations": rows, "generations_active": any(row.in_flight for row in rows)}


def _piece_context(
    request,
    piece: Piece,
    *,
    attributes: dict | None = None,
    attributes_error: str = "",
    brief: dict | None = None,
    generate_error: str = "",
    idempotency_key: str | None = None,
) -> dict:
    references = _references_context(piece)
    return {
        "piece": piece,
        **references,
        **_attributes_context(piece, references["references"], values=attributes, error=attributes_error),
        **_generate_context(request, piece, brief=brief, error=generate_error, key=idempotency_key),
        **_generations_context(piece),
    }


# -------------------------------------------------------------------------------------------------- pages


@login_required
def piece_list(request):
    pieces = selectors.piece_list(owner=request.user).annotate(generation_count=Count("generations"))
    cards = []
    for piece in pieces:
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
    return render(request, "web/jewellery_list.html", {"cards": cards})


def _new_context(request, **extra) -> dict:
    return {
        "upload_field": UPLOAD_FIELD,
        "upload_accept": UPLOAD_ACCEPT,
        "upload_formats": ACCEPTED_HUMAN,
        "upload_max_bytes": settings.UPLOAD_MAX_BYTES,
        "upload_max_label": f"{settings.UPLOAD_MAX_BYTES / (1024 * 1024):.0f} MB",
        "max_references": min(settings.UPLOAD_MAX_FILES, 10),
        "analysis_cost": get_kind("jewellery.analyse").cost,
        "balance": credit_balance(user=request.user),
        **extra,
    }


@login_required
def piece_new(request):
    if request.method != "POST":
        return render(request, "web/jewellery_new.html", _new_context(request))
    title = request.POST.get("title", "")
    try:
        check_upload_request(request)
        files = request.FILES.getlist(UPLOAD_FIELD)
        if files:  # none at all: the service says how many it takes
            check_file_count(files)
        piece = piece_create(owner=request.user, uploads=files, title=title)
    except (UploadRefused, JewelleryRefused, JobRefused) as refused:
        context = _new_context(request, error=refused.message, title=title)
        return render(request, "web/jewellery_new.html", context, status=refused.status)
    count = piece.references.count()
    messages.success(request, f"{count} reference image{'s' if count != 1 else ''} stored. The analysis is on its way.")
    return redirect("jewellery-piece", piece.pk)


@login_required
def piece_page(request, piece_id: int):
    return render(request, "web/jewellery_piece.html", _piece_context(request, _owned_piece(request, piece_id)))


@fragment_login_required
def piece_references(request, piece_id: int):
    """Step 1 alone, polled while thumbnails are being made."""
    piece = _owned_piece(request, piece_id)
    return render(request, "web/_jewellery_references.html", {"piece": piece, **_references_context(piece)})


@fragment_login_required
def piece_attributes(request, piece_id: int):
    """Step 2 alone, polled while the analysis runs; the form arrives when it is done."""
    piece = _owned_piece(request, piece_id)
    references = _references_context(piece)
    context = {**references, **_attributes_context(piece, references["references"])}
    return render(request, "web/_jewellery_attributes.html", context)


@login_required
@require_POST
def piece_retry_analysis(request, piece_id: int):
    piece = _owned_piece(request, piece_id)
    try:
        piece_reanalyse(piece=piece)
    except JobRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.info(request, "Analysing the references again.")
    return redirect(_back_to(piece, "attributes"))


@login_required
@require_POST
def piece_confirm_attributes(request, piece_id: int):
    piece = _owned_piece(request, piece_id)
    base = piece.attributes or piece_analysis(piece)
    if base is None:
        messages.error(request, "The analysis has not finished yet. The form appears when it is done.")
        return redirect(_back_to(piece, "attributes"))
    values = attributes_from_form(request.POST, base=base, reference_count=piece.references.count())
    title = request.POST.get("title", "").strip()
    was_confirmed = piece.attributes is not None
    try:
        piece_confirm(piece=piece, attributes=values, title=title or None)
    except JewelleryRefused as refused:
        context = _piece_context(request, piece, attributes=values, attributes_error=refused.message)
        return render(request, "web/jewellery_piece.html", context, status=refused.status)
    if was_confirmed:
        messages.success(request, "Changes saved. New prompts use them; earlier generations keep theirs.")
    else:
        messages.success(request, "Attributes confirmed. Now choose how the images should look.")
    return redirect(_back_to(piece, "generate"))


@fragment_login_required
@require_POST
def piece_prompt(request, piece_id: int):
    """The prompts exactly as they will be sent, re-rendered (debounced by the page) when a choice changes."""
    piece = _owned_piece(request, piece_id)
    raw = brief_from_form(request.POST)
    context: dict = {"piece": piece}
    try:
        plan = generation_plan(piece=piece, brief=brief_validate(raw))
    except JewelleryRefused as refused:
        context.update(error=refused.message, **_price_context(request, _image_count(raw)))
    else:
        context.update(
            plan=plan,
            prompts=_distinct_prompts(plan["images"], bool(plan["metals"])),
            provider=labels.provider_label(plan["provider"]),
            **_price_context(request, len(plan["images"]), get_kind("jewellery.generate").cost_for(plan)),
        )
    return render(request, "web/_jewellery_prompt.html", context)


@login_required
@require_POST
def piece_generate(request, piece_id: int):
    piece = _owned_piece(request, piece_id)
    raw = brief_from_form(request.POST)
    token = (request.POST.get("idempotency_key") or "").strip()[:64]
    try:
        generation = generation_create(
            piece=piece, brief=brief_validate(raw), idempotency_key=f"{KEY_PREFIX}{token}" if token else None
        )
    except (JewelleryRefused, JobRefused) as refused:
        context = _piece_context(request, piece, brief=raw, generate_error=refused.message, idempotency_key=token)
        return render(request, "web/jewellery_piece.html", context, status=refused.status)
    count = len(generation.job.params.get("images") or [])
    messages.success(
        request, f"Generating {count} image{'s' if count != 1 else ''}. They appear below as they are ready."
    )
    return redirect(_back_to(piece, "generations"))


@fragment_login_required
def piece_generations(request, piece_id: int):
    """The generations alone, polled while any is in progress."""
    return render(request, "web/_jewellery_generations.html", _generations_context(_owned_piece(request, piece_id)))


@login_required
@require_POST
def generation_cancel(request, generation_id: int):
    generation = _owned_generation(request, generation_id)
    piece = generation.piece
    job = job_cancel(job=generation.job)
    if job.state == JobState.CANCELLED:
        messages.success(request, "Generation cancelled. The credits it held are back in your balance.")
    elif job.cancel_requested and job.state not in TERMINAL_STATES:
        messages.info(request, "Stopping the generation: it ends at its next step and returns its credits.")
    else:
        messages.info(request, "This generation had already finished, so there was nothing to cancel.")
    return redirect(_back_to(piece, "generations"))


@login_required
def generation_remove(request, generation_id: int):
    """GET asks for confirmation; POST deletes the generation and its images."""
    generation = _owned_generation(request, generation_id)
    piece = generation.piece
    generations = list(selectors.generation_list(piece=piece).values_list("pk", flat=True))
    row = _generation_row(generation, len(generations) - generations.index(generation.pk))
    if request.method == "POST":
        generation_delete(generation=generation, actor=request.user)
        messages.success(request, f"Generation {row.number} and its images are deleted.")
        return redirect(_back_to(piece, "generations"))
    return render(request, "web/jewellery_generation_delete.html", {"piece": piece, "row": row})


@login_required
def piece_remove(request, piece_id: int):
    """GET explains what goes and asks for confirmation; POST deletes the piece and everything made from it."""
    piece = _owned_piece(request, piece_id)
    if request.method == "POST":
        title = str(piece)
        piece_delete(piece=piece, actor=request.user)
        messages.success(request, f"“{title}” is deleted, with its references, analysis and generated images.")
        return redirect("jewellery-list")
    rows = _generations_context(piece)["generations"]
    context = {
        "piece": piece,
        "reference_count": piece.references.count(),
        "generation_count": len(rows),
        "image_count": sum(row.downloads for row in rows),
        "in_flight": sum(1 for row in rows if row.in_flight),
    }
    return render(request, "web/jewellery_delete.html", context)
