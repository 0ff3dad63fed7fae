"""Gallery pages. Thin: each view reads one selector or validates a form and calls one service.

Pictures are served by `gallery_picture`, which checks the publication on every request and answers with
`Cache-Control: no-cache` and an ETag: a browser or proxy may keep the bytes but must ask again before each use, so
an unpublished or hidden item's pictures stop at once (a 304 is only ever sent while the item is still shown)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from intaglio.accounts.roles import Role, role_required
from intaglio.assets.storage import blob_open
from intaglio.engrave import selectors as engrave_selectors
from intaglio.engrave import services as engrave_services
from intaglio.engrave.errors import StudioRefused
from intaglio.gallery import selectors, services
from intaglio.gallery.services import GalleryRefused, PhotoUpload
from intaglio.web.gallery.forms import DecisionForm, PublishForm, ReportForm
from intaglio.web.gallery.presenters import facet_options, item_card, item_detail, queue_row

NO_CACHE = "no-cache"


def _no_cache(response):
    # Pages of items change the moment an owner unpublishes or a moderator hides: never served from a cache unchecked.
    response["Cache-Control"] = NO_CACHE
    return response


@require_GET
def gallery_list(request):
    material, kind = request.GET.get("material", ""), request.GET.get("machine", "")
    items = selectors.gallery_list(material=material, machine_kind=kind)
    context = {
        "cards": [item_card(item) for item in items[:60]],
        "facets": facet_options(selectors.gallery_facets(), material=material, kind=kind),
        "material": material,
        "kind": kind,
    }
    return _no_cache(render(request, "web/gallery_list.html", context))


def _visible(request, public_id: str):
    item = selectors.gallery_item_for(public_id=public_id, viewer=request.user)
    if item is None:
        raise Http404("No such item in the gallery.")
    return item


@require_GET
def gallery_item(request, public_id: str):
    item = _visible(request, public_id)
    return _no_cache(render(request, "web/gallery_item.html", {"item": item_detail(item, viewer=request.user)}))


@require_GET
def gallery_picture(request, public_id: str, image_id: str):
    image = selectors.gallery_image_for(item_public_id=public_id, image_public_id=image_id, viewer=request.user)
    if image is None:
        raise Http404("No such picture in the gallery.")
    etag = f'"{image.asset.sha256}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponseNotModified()
    else:
        try:
            handle = blob_open(image.asset.storage_key)
        except FileNotFoundError:
            raise Http404("No such picture in the gallery.") from None
        response = FileResponse(handle, content_type=image.asset.mime)
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response["X-Content-Type-Options"] = "nosniff"
    response["ETag"] = etag
    response["Vary"] = "Cookie"
    return _no_cache(response)


@login_required
def gallery_use(request, public_id: str):
    """*Use this recipe*: the visitor picks one of their own photos, and the studio opens with the item's settings."""
    item = _visible(request, public_id)
    if request.method == "POST":
        photo = engrave_selectors.studio_photos(owner=request.user)
        chosen = next((p for p, _ in photo if str(p.pk) == request.POST.get("photo")), None)
        if chosen is None:
            raise Http404("No such photo")
        try:
            artwork = engrave_services.artwork_create(
                owner=request.user, source=chosen, title=item.title, settings=services.recipe_settings(item)
            )
        except StudioRefused as refused:
            messages.error(request, refused.message)
            return redirect("gallery-use", public_id)
        return redirect("artwork-studio", artwork.pk)
    photos = engrave_selectors.studio_photos(owner=request.user)
    return render(request, "web/gallery_use.html", {"item": item_detail(item, viewer=request.user), "photos": photos})


@login_required
def gallery_report(request, public_id: str):
    item = _visible(request, public_id)
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.report_file(item=item, reporter=request.user, **form.cleaned_data)
        except GalleryRefused as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, "Thank you. A moderator will look at this item.")
            return redirect("gallery-item", public_id)
    return render(request, "web/gallery_report.html", {"item": item_detail(item, viewer=request.user), "form": form})


@login_required
def gallery_publish(request, artwork_id: int, number: int):
    version = engrave_selectors.artwork_version_get(owner=request.user, artwork_id=artwork_id, number=number)
    if version is None:
        raise Http404("No such version")
    form = PublishForm(
        request.POST or None, request.FILES or None, initial={"title": version.artwork.title},
        burn_photos=selectors.version_burn_photos(version=version),
    )  # fmt: skip
    if request.method == "POST" and form.is_valid():
        photos = [PhotoUpload(name=f.name, data=f.read()) for f in form.cleaned_data["photos"]]
        try:
            item = services.gallery_publish(
                owner=request.user, version=version, title=form.cleaned_data["title"],
                story=form.cleaned_data["story"], photos=photos, include_source=form.cleaned_data["include_source"],
                report_photo_ids=form.cleaned_data.get("report_photos", []),
            )  # fmt: skip
        except GalleryRefused as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, "Published. Anyone can see it in the gallery until you unpublish it.")
            return redirect("gallery-item", item.public_id)
    context = {"form": form, "version": version, "artwork": version.artwork}
    return render(request, "web/gallery_publish.html", context)


@login_required
def gallery_mine(request):
    items = list(selectors.gallery_owned(owner=request.user))
    unseen = list(selectors.decisions_unseen(owner=request.user))
    services.decisions_mark_seen(owner=request.user)
    context = {"cards": [item_card(item, mine=True) for item in items], "news": unseen}
    return _no_cache(render(request, "web/gallery_mine.html", context))


@login_required
@require_POST
def gallery_unpublish(request, public_id: str):
    item = selectors.gallery_owned_get(owner=request.user, public_id=public_id)
    if item is None:
        raise Http404("No such item among yours.")
    services.gallery_unpublish(item=item, actor=request.user)
    messages.success(request, f"“{item.title}” is no longer in the gallery; its page and pictures are gone.")
    return redirect("gallery-mine")


@login_required
@require_GET
def moderation_queue(request):
    role_required(request.user, Role.MODERATOR)
    rows = [queue_row(item) for item in selectors.moderation_queue()]
    return _no_cache(render(request, "web/moderation_queue.html", {"rows": rows}))


@login_required
def moderation_item(request, public_id: str):
    role_required(request.user, Role.MODERATOR)
    item = selectors.moderation_item(public_id=public_id)
    if item is None:
        raise Http404("No such item.")
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.moderation_decide(item=item, moderator=request.user, **form.cleaned_data)
        except GalleryRefused as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, "Decision recorded; the owner will see it.")
            return redirect("moderation-queue")
    context = {"row": queue_row(item), "item": item_detail(item, viewer=request.user), "form": form}
    return _no_cache(render(request, "web/moderation_item.html", context))
