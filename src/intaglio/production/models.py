"""Production in the operator's own workshop: an owner sends a finished artwork version to be engraved there, the
workshop engraves it and photographs the piece, and the owner sees those photos on the version.

An order is known to the workshop by its number only, never by the customer's name, e-mail or id. Shipping is
arranged outside the platform: an order holds no postal address or any other new personal data."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from intaglio.accounts.roles import Role

# Crockford's base32 without I, L, O and U: read aloud or typed from a label without confusion.
NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_order_number() -> str:
    """40 random bits, e.g. "PR-7K3M-Q9XD": a number says nothing about the customer or how many orders exist (a
    database id would count them), and cannot be guessed from another order's."""
    chars = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(8))
    return f"PR-{chars[:4]}-{chars[4:]}"


class OrderState(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    IN_PRODUCTION = "in_production", "In production"
    CAPTURED = "captured", "Photographed"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


# States in which the workshop still works on an order (and deleting its version or closing the account cancels it).
OPEN_STATES: tuple[str, ...] = (OrderState.SUBMITTED, OrderState.IN_PRODUCTION, OrderState.CAPTURED)


class CancelReason(models.TextChoices):
    OWNER = "owner", "Cancelled by you"
    VERSION_DELETED = "version_deleted", "The version was deleted"
    ACCOUNT_CLOSED = "account_closed", "The account was closed"


class Order(models.Model):
    number = models.CharField(max_length=12, unique=True, default=new_order_number, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="production_orders")
    # The version to engrave; None once it was deleted (its open orders are cancelled then, production.apps).
    version = models.ForeignKey(
        "engrave.ArtworkVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="production_orders"
    )
    state = models.CharField(max_length=15, choices=OrderState.choices, default=OrderState.SUBMITTED)
    cancel_reason = models.CharField(max_length=20, choices=CancelReason.choices, blank=True)
    note = models.CharField(max_length=500, blank=True, help_text="The owner's note to the workshop.")
    # The workshop member who works on it, chosen by the operator (the admin). Only they see the order.
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        limit_choices_to={"is_staff": True, "groups__name": Role.FACTORY.label},
    )  # fmt: skip
    created_at = models.DateTimeField(default=timezone.now)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["assigned_to", "state"])]

    def __str__(self) -> str:
        return f"order {self.number}"


class Capture(models.Model):
    """A workshop photo of the engraved piece: an asset of kind factory_capture owned by the customer, so it follows
    the customer's consent and retention like their own photos of engravings (E12, E13). Deleting the capture
    deletes its file (production.apps), and the file's deletion (retention, erasure) deletes the capture."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="captures")
    asset = models.OneToOneField("assets.Asset", on_delete=models.CASCADE, related_name="production_capture")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"capture of {self.order_id}"
