"""Jewellery studio pages: pieces from reference images, checking what analysis found, the prompt in plain view,
generations and their images. Thin: each view reads the form, calls one service or selector and renders; what the
pages say is in presenters.py."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from intaglio.assets.uploads import check_file_count, check_upload_request
from intaglio.core.access import owned
from intaglio.jewellery import selectors
from intaglio.jewellery.services import (
    JewelleryRefused,
    batch_create,
    batch_pieces,
    batch_quote,
    brief_validate,
    generation_create,
    generation_delete,
    generation_plan,
    generation_regenerate_free,
    piece_analysis,
    piece_brief_save,
    piece_confirm,
    piece_create,
    piece_delete,
    piece_reanalyse,
    refused_reference_lines,
    style_kit_brief,
    style_kit_delete,
    style_kit_save,
)
from intaglio.jobs.kinds import get_kind
from intaglio.jobs.services import job_cancel
from intaglio.web.jewellery import labels
from intaglio.web.jewellery.forms import UPLOAD_FIELD, attributes_from_form, brief_from_form
from intaglio.web.jewellery.presenters import (
    attributes_context,
    batch_context,
    batch_new_context,
    batch_quote_context,
    distinct_prompts,
    generation_cancel_message,
    generation_numbered,
    generations_context,
    image_count,
    kit_rows,
    new_piece_context,
    piece_cards,
    piece_context,
    piece_remove_context,
    price_context,
    references_context,
)
from intaglio.web.refusals import refusal_as_message, refusal_kept
from intaglio.web.shared import fragment_login_required

# Idempotency keys of generations made from the page carry this prefix, so they never meet another kind's keys.
KEY_PREFIX = "jewellery-page:"


def _piece(request, piece_id: int):
    return owned(selectors.piece_list, owner=request.user, pk=piece_id)


def _generation(request, generation_id: int):
    return owned(selectors.generations_owned, owner=request.user, pk=generation_id)


def _back_to(piece, anchor: str) -> str:
    return reverse("jewellery-piece", args=[piece.pk]) + f"#{anchor}"


@login_required
def piece_list(request):
    return render(request, "web/jewellery_list.html", {"cards": piece_cards(owner=request.user)})


@login_required
def piece_new(request):
    if request.method != "POST":
        return render(request, "web/jewellery_new.html", new_piece_context(request.user))
    title = request.POST.get("title", "")
    with refusal_kept() as refused:
        check_upload_request(request)
        files = request.FILES.getlist(UPLOAD_FIELD)
        if files:  # none at all: the service says how many it takes
            check_file_count(files)
        piece = piece_create(owner=request.user, uploads=files, title=title)
    if refused:
        context = new_piece_context(request.user, refusal=refused.refusal, title=title)
        return render(request, "web/jewellery_new.html", context, status=refused.status)
    count = selectors.reference_count(piece=piece)
    messages.success(request, f"{count} reference image{'s' if count != 1 else ''} stored. The analysis is on its way.")
    for line in refused_reference_lines(piece):
        messages.error(request, f"Not kept: {line}")
    return redirect("jewellery-piece", piece.pk)


@login_required
def piece_page(request, piece_id: int):
    return render(request, "web/jewellery_piece.html", piece_context(request.user, _piece(request, piece_id)))


@fragment_login_required
def piece_references(request, piece_id: int):
    """Step 1 alone, polled while thumbnails are being made."""
    piece = _piece(request, piece_id)
    return render(request, "web/_jewellery_references.html", {"piece": piece, **references_context(piece)})


@fragment_login_required
def piece_attributes(request, piece_id: int):
    """Step 2 alone, polled while the analysis runs; the form arrives when it is done."""
    piece = _piece(request, piece_id)
    references = references_context(piece)
    context = {**references, **attributes_context(piece, references["references"])}
    return render(request, "web/_jewellery_attributes.html", context)


@login_required
@require_POST
def piece_retry_analysis(request, piece_id: int):
    piece = _piece(request, piece_id)
    with refusal_as_message(request):
        piece_reanalyse(piece=piece)
        messages.info(request, "Analysing the references again.")
    return redirect(_back_to(piece, "attributes"))


@login_required
@require_POST
def piece_confirm_attributes(request, piece_id: int):
    piece = _piece(request, piece_id)
    base = piece.attributes or piece_analysis(piece)
    if base is None:
        messages.error(request, "The analysis has not finished yet. The form appears when it is done.")
        return redirect(_back_to(piece, "attributes"))
    values = attributes_from_form(request.POST, base=base, reference_count=selectors.reference_count(piece=piece))
    title = request.POST.get("title", "").strip()
    was_confirmed = piece.attributes is not None
    with refusal_kept() as refused:
        piece_confirm(piece=piece, attributes=values, title=title or None)
    if refused:
        context = piece_context(request.user, piece, attributes=values, attributes_error=refused.message)
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
    piece = _piece(request, piece_id)
    raw = brief_from_form(request.POST)
    context: dict = {"piece": piece}
    with refusal_kept() as refused:
        brief = brief_validate(raw)
        piece_brief_save(piece=piece, brief=brief)  # the choices survive a reload
        plan = generation_plan(piece=piece, brief=brief)
    if refused:
        context.update(error=refused.message, **price_context(request.user, image_count(raw)))
    else:
        context.update(
            plan=plan,
            prompts=distinct_prompts(plan["images"], bool(plan["metals"])),
            provider=labels.provider_label(plan["provider"]),
            **price_context(request.user, len(plan["images"]), get_kind("jewellery.generate").cost_for(plan)),
        )
    return render(request, "web/_jewellery_prompt.html", context)


@login_required
@require_POST
def piece_generate(request, piece_id: int):
    piece = _piece(request, piece_id)
    raw = brief_from_form(request.POST)
    token = (request.POST.get("idempotency_key") or "").strip()[:64]
    with refusal_kept() as refused:
        generation = generation_create(
            piece=piece, brief=brief_validate(raw), idempotency_key=f"{KEY_PREFIX}{token}" if token else None
        )
    if refused:
        context = piece_context(request.user, piece, brief=raw, generate_error=refused.message, idempotency_key=token)
        return render(request, "web/jewellery_piece.html", context, status=refused.status)
    count = len(generation.job.params.get("images") or [])
    messages.success(
        request, f"Generating {count} image{'s' if count != 1 else ''}. They appear below as they are ready."
    )
    return redirect(_back_to(piece, "generations"))


@fragment_login_required
def piece_generations(request, piece_id: int):
    """The generations alone, polled while any is in progress."""
    return render(request, "web/_jewellery_generations.html", generations_context(_piece(request, piece_id)))


@login_required
@require_POST
def generation_cancel(request, generation_id: int):
    generation = _generation(request, generation_id)
    job = job_cancel(job=generation.job)
    messages.add_message(request, *generation_cancel_message(job))
    return redirect(_back_to(generation.piece, "generations"))


@login_required
def generation_remove(request, generation_id: int):
    """GET asks for confirmation; POST deletes the generation and its images."""
    generation = _generation(request, generation_id)
    piece = generation.piece
    row = generation_numbered(generation)
    if request.method == "POST":
        generation_delete(generation=generation, actor=request.user)
        messages.success(request, f"Generation {row.number} and its images are deleted.")
        return redirect(_back_to(piece, "generations"))
    return render(request, "web/jewellery_generation_delete.html", {"piece": piece, "row": row})


@login_required
def piece_remove(request, piece_id: int):
    """GET explains what goes and asks for confirmation; POST deletes the piece and everything made from it."""
    piece = _piece(request, piece_id)
    if request.method == "POST":
        title = str(piece)
        piece_delete(piece=piece, actor=request.user)
        messages.success(request, f"“{title}” is deleted, with its references, analysis and generated images.")
        return redirect("jewellery-list")
    return render(request, "web/jewellery_delete.html", piece_remove_context(piece))


# --- style kits and batches


def _kit(request, kit_id):
    """The owner's style kit `kit_id` (a number, or a form's text); 404 for anything else."""
    return owned(selectors.style_kits, owner=request.user, pk=int(kit_id) if str(kit_id).isdigit() else 0)


def _ids(values) -> list[int]:
    return [int(value) for value in values if value.isdigit()]


@login_required
@require_POST
def kit_save(request, piece_id: int):
    """The step-3 choices on the page, saved as a named style kit."""
    piece = _piece(request, piece_id)
    with refusal_as_message(request):
        brief = brief_validate(brief_from_form(request.POST))
        kit = style_kit_save(owner=request.user, name=request.POST.get("kit_name", ""), brief=brief)
        messages.success(request, f"Saved the style kit “{kit.name}”. Apply it to any piece, or to many in a batch.")
    return redirect(_back_to(piece, "generate"))


@login_required
@require_POST
def kit_apply(request, piece_id: int):
    piece = _piece(request, piece_id)
    kit = _kit(request, (request.POST.get("kit") or "").strip())
    with refusal_as_message(request):
        piece_brief_save(piece=piece, brief=style_kit_brief(kit))
        messages.success(request, f"Applied the style kit “{kit.name}”.")
    return redirect(_back_to(piece, "generate"))


@login_required
def kit_list(request):
    return render(request, "web/jewellery_kits.html", {"rows": kit_rows(request.user)})


@login_required
@require_POST
def kit_remove(request, kit_id: int):
    kit = _kit(request, kit_id)
    style_kit_delete(kit=kit)
    messages.success(request, f"Deleted the style kit “{kit.name}”. Pieces keep their choices.")
    return redirect("jewellery-kits")


@login_required
def batch_new(request):
    return render(request, "web/jewellery_batch_new.html", batch_new_context(request.user))


@login_required
@require_POST
def batch_confirm(request):
    """The total of the chosen pieces with the chosen kit, to confirm once."""
    chosen, kit_id = _ids(request.POST.getlist("pieces")), (request.POST.get("kit") or "").strip()
    with refusal_kept() as refused:
        if not kit_id:
            raise JewelleryRefused("invalid_batch", "Choose a style kit for the batch.")
        kit = _kit(request, kit_id)
        pieces = batch_pieces(owner=request.user, piece_ids=chosen)
        quote = batch_quote(owner=request.user, pieces=pieces, brief=style_kit_brief(kit))
    if refused:
        context = batch_new_context(request.user, chosen=chosen, kit_id=None, error=refused.message)
        return render(request, "web/jewellery_batch_new.html", context, status=refused.status)
    context = batch_quote_context(request.user, pieces=pieces, kit=kit, quote=quote)
    return render(request, "web/jewellery_batch_confirm.html", context)


@login_required
@require_POST
def batch_start(request):
    chosen, kit = _ids(request.POST.getlist("pieces")), _kit(request, (request.POST.get("kit") or "").strip())
    token = (request.POST.get("idempotency_key") or "").strip()[:64]
    with refusal_kept() as refused:
        batch = batch_create(
            owner=request.user,
            pieces=batch_pieces(owner=request.user, piece_ids=chosen),
            brief=style_kit_brief(kit),
            confirmed_credits=int(request.POST.get("credits") or -1),
            kit_name=kit.name,
            idempotency_key=f"{KEY_PREFIX}{token}" if token else None,
        )
    if refused:
        context = batch_new_context(request.user, chosen=chosen, kit_id=kit.pk, error=refused.message)
        return render(request, "web/jewellery_batch_new.html", context, status=refused.status)
    return redirect("jewellery-batch", batch_id=batch.pk)


@login_required
def batch_page(request, batch_id: int):
    batch = owned(selectors.batches, owner=request.user, pk=batch_id)
    template = "web/_jewellery_batch_rows.html" if request.headers.get("HX-Request") else "web/jewellery_batch.html"
    return render(request, template, batch_context(batch))


@login_required
@require_POST
def regenerate_free(request, check_id: int):
    """Makes a flagged image again, once, free of charge."""
    check = owned(selectors.design_checks_owned, owner=request.user, pk=check_id)
    token = (request.POST.get("idempotency_key") or "").strip()[:64]
    with refusal_kept() as refused:
        generation_regenerate_free(check=check, idempotency_key=f"{KEY_PREFIX}regenerate:{token}" if token else None)
    if refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, "Making the image again, free of charge. It appears below when ready.")
    return redirect(_back_to(check.generation.piece, "generations"))
