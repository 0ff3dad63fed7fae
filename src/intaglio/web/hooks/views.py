"""Provider webhooks: verified (HMAC, timestamp window) and idempotent per delivery id; the work is a service."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from intaglio.billing.services import stripe_webhook_receive
from intaglio.jewellery.services import webhook_receive
from intaglio.providers.base import ProviderError, WebhookRejected

WEBHOOK_MAX_BYTES = 256 * 1024


@csrf_exempt  # authenticated by its signature, not a session
@require_POST
def provider_webhook(request, provider: str):
    if provider != "wavespeed":
        return JsonResponse({"error": "unknown provider"}, status=404)
    if len(request.body) > WEBHOOK_MAX_BYTES:
        return JsonResponse({"error": "payload too large"}, status=413)
    try:
        outcome = webhook_receive(provider_name=provider, headers=dict(request.headers), body=request.body)
    except WebhookRejected as rejected:
        return JsonResponse({"error": str(rejected)}, status=401)
    except ImproperlyConfigured:
        return JsonResponse({"error": "webhooks from this provider are not configured"}, status=404)
    # A duplicate or a delivery for a job that is gone is still a 200: the provider must stop retrying it.
    return JsonResponse({"status": outcome})


@csrf_exempt  # authenticated by its signature, not a session
@require_POST
def stripe_webhook(request):
    """Stripe's events. The signature is checked on the raw body; a duplicate or an event for an unknown customer is
    a 200 (Stripe must stop retrying it); a failure reading Stripe is a 503, so Stripe delivers again later."""
    if len(request.body) > WEBHOOK_MAX_BYTES:
        return JsonResponse({"error": "payload too large"}, status=413)
    try:
        outcome = stripe_webhook_receive(payload=request.body, signature=request.headers.get("Stripe-Signature"))
    except WebhookRejected as rejected:
        return JsonResponse({"error": str(rejected)}, status=400)
    except ImproperlyConfigured:
        return JsonResponse({"error": "payments are not configured"}, status=404)
    except ProviderError:
        return JsonResponse({"error": "could not read the event's objects from Stripe; retry later"}, status=503)
    return JsonResponse({"status": outcome})
