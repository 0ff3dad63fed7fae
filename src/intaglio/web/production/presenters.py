"""What production pages show: an order's facts as the workshop may read them (the version's settings, never who
ordered it), its files and its photos."""

from __future__ import annotations

from dataclasses import dataclass, field

from intaglio.engrave.selectors import version_files
from intaglio.imaging.artwork import machines, materials
from intaglio.production.models import Order, OrderState
from intaglio.production.services import WORKSHOP_FILES
from intaglio.web.engrave.presenters import mode_label

FILE_LABELS = {"png": "PNG", "svg": "SVG", "gcode": "G-code", "burn-preview": "Simulated burn"}
TONES = {
    OrderState.SUBMITTED: "wait",
    OrderState.IN_PRODUCTION: "busy",
    OrderState.CAPTURED: "ok",
    OrderState.DONE: "ok",
    OrderState.CANCELLED: "off",
}
STEPS = (OrderState.SUBMITTED, OrderState.IN_PRODUCTION, OrderState.CAPTURED, OrderState.DONE)


@dataclass
class OrderView:
    order: Order
    tone: str
    facts: list[tuple[str, str]]
    steps: list[dict] = field(default_factory=list)
    files: list[dict] = field(default_factory=list)
    captures: list = field(default_factory=list)


def order_facts(order: Order) -> list[tuple[str, str]]:
    """Material, machine kind, size, mode and laser settings: what engraving needs, and no name the owner typed."""
    settings = order.version.settings if order.version else {}
    material = materials().get(settings.get("material"))
    spec = settings.get("machine_spec") or {}
    machine = machines().get(settings.get("machine"))
    kind = spec.get("kind") or (machine.kind if machine else "")
    laser = settings.get("laser") or {}
    size = f"{settings['width_mm']:g} mm wide" if settings.get("width_mm") else ""
    rows = [
        ("Material", material.label if material else settings.get("material", "")),
        ("Machine", machine.label if machine and not spec else f"{kind} laser".strip()),
        ("Size", size),
        ("Mode", mode_label(settings.get("mode", ""))),
    ]
    if laser.get("power_pct"):
        rows.append(("Laser", f"{laser['power_pct']:g} % at {laser['speed_mm_min']:g} mm/min"))
    return [(label, value) for label, value in rows if value]


def _steps(order: Order) -> list[dict]:
    if order.state == OrderState.CANCELLED:
        return []
    reached = STEPS.index(order.state)
    return [{"label": step.label, "done": i <= reached, "current": i == reached} for i, step in enumerate(STEPS)]


def order_view(order: Order, *, workshop: bool = False) -> OrderView:
    view = OrderView(order=order, tone=TONES.get(order.state, "off"), facts=order_facts(order), steps=_steps(order))
    view.captures = [capture.asset for capture in order.captures.all()]
    if workshop and order.version is not None:
        files = version_files(order.version)
        view.files = [
            {"role": role, "label": FILE_LABELS[role], "bytes": files[role].bytes}
            for role in WORKSHOP_FILES
            if role in files
        ]
    return view
