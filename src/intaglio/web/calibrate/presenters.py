"""What the calibration pages show: a card's files and state, a reading as a report a maker can act on, the maker's
calibrations, *How did it burn?* reports, and the small inline-SVG plots they share (no plotting dependency: each
plot is a handful of coordinates that one template include draws)."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field

from django.conf import settings

from intaglio.engrave import selectors
from intaglio.engrave.models import CalibrationProfile
from intaglio.engrave.params import CardSettings
from intaglio.feedback.models import BurnReport
from intaglio.imaging.artwork import machines, materials
from intaglio.jobs import selectors as job_selectors
from intaglio.jobs.kinds import get_kind
from intaglio.jobs.models import TERMINAL_STATES, Job, JobState
from intaglio.web.engrave.forms import form_number
from intaglio.web.engrave.presenters import KIND_SHORT, mode_label
from intaglio.web.jobs.presenters import STATE_DISPLAY
from intaglio.web.shared import upload_form_context

# --- plots ----------------------------------------------------------------------------------------------------------

# The tone plot's frame in its viewBox (0 0 250 214): room on the left and below for the ticks and axis titles.
TONE_LEFT, TONE_RIGHT, TONE_TOP, TONE_BOTTOM = 42.0, 240.0, 10.0, 172.0
PERCENT_TICKS = (0.0, 0.25, 0.5, 0.75, 1.0)
# The grid plot: a column of power labels, a row of speed labels, then the 5 × 5 cells.
GRID_LABEL_W, GRID_HEAD_H, GRID_CELL, GRID_GAP = 46.0, 30.0, 34.0, 4.0
# Cell shading from bare to fully burned: the paper of the page to a deep burn brown.
BARE_RGB, BURNED_RGB = (246, 240, 231), (43, 30, 22)


def percent(value: float | None, digits: int = 0) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value * 100:.{digits}f} %"


@dataclass(frozen=True)
class TonePlot:
    """The tone response: measured points and line against the diagonal the library assumes (SVG coordinates)."""

    points: str
    dots: list[tuple[str, str, str]]  # (x, y, "asked 50 % → measured 62 %")
    ticks: list[tuple[str, str, str]]  # (x or y position, same on the other axis, label)
    left: float = TONE_LEFT
    right: float = TONE_RIGHT
    top: float = TONE_TOP
    bottom: float = TONE_BOTTOM
    id: str = field(default_factory=lambda: f"tone-{uuid.uuid4().hex[:8]}")

    @property
    def middle_x(self) -> float:
        return (self.left + self.right) / 2

    @property
    def middle_y(self) -> float:
        return (self.top + self.bottom) / 2


def tone_plot(tone_response: list) -> TonePlot | None:
    """The plot of [[card target, measured], …] (both 0–1), or None when there is nothing measured to draw.

    Parameters
    ----------
    tone_response : list
        The wedge as read: pairs of the tone the card asked for and the tone the photo showed.

    Returns
    -------
    TonePlot or None
    """
    pairs = sorted((float(a), float(m)) for a, m in tone_response or [])
    if not pairs:
        return None

    def x_at(v: float) -> float:
        return TONE_LEFT + min(max(v, 0.0), 1.0) * (TONE_RIGHT - TONE_LEFT)

    def y_at(v: float) -> float:
        return TONE_BOTTOM - min(max(v, 0.0), 1.0) * (TONE_BOTTOM - TONE_TOP)

    return TonePlot(
        points=" ".join(f"{x_at(a):.1f},{y_at(m):.1f}" for a, m in pairs),
        dots=[(f"{x_at(a):.1f}", f"{y_at(m):.1f}", f"asked {a:.0%} → measured {m:.0%}") for a, m in pairs],
        ticks=[(f"{x_at(t):.1f}", f"{y_at(t):.1f}", f"{t:.0%}") for t in PERCENT_TICKS],
    )


def shade(darkness: float) -> str:
    """A cell's fill for its measured darkness (0 bare … 1 fully burned), mixed in linear light like a burn."""
    t = min(max(float(darkness), 0.0), 1.0)

    def linear(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    def srgb(v: float) -> int:
        v = v * 12.92 if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055
        return round(min(max(v, 0.0), 1.0) * 255)

    mixed = [srgb((1 - t) * linear(b) + t * linear(d)) for b, d in zip(BARE_RGB, BURNED_RGB, strict=True)]
    return "#{:02x}{:02x}{:02x}".format(*mixed)


@dataclass(frozen=True)
class GridCell:
    x: float
    y: float
    fill: str
    dark_text: bool  # ink text on a light cell, white on a dark one
    label: str  # the darkness, in the cell
    title: str  # the full sentence, for the tooltip and screen readers
    chosen: bool


@dataclass(frozen=True)
class GridPlot:
    cells: list[GridCell]
    powers: list[tuple[float, str]]  # (y of the row's middle, "25 %")
    speeds: list[tuple[float, str]]  # (x of the column's middle, "6 m/min")
    width: float
    height: float
    cell: float = GRID_CELL
    left: float = GRID_LABEL_W
    top: float = GRID_HEAD_H
    id: str = field(default_factory=lambda: f"grid-{uuid.uuid4().hex[:8]}")

    @property
    def middle_x(self) -> float:
        return (self.left + self.width) / 2

    @property
    def middle_y(self) -> float:
        return (self.top + self.height) / 2


def metres(mm_per_min: float) -> str:
    """mm/min as m/min to two figures: 4242 → "4.2", 1500 → "1.5", 120000 → "120"."""
    value = mm_per_min / 1000
    return f"{round(value, 1):g}" if value < 10 else f"{value:.0f}"


def speed_label(speed_mm_min: float | None) -> str:
    return "—" if speed_mm_min is None else f"{metres(speed_mm_min)} m/min"


def power_label(power_pct: float | None) -> str:
    return "—" if power_pct is None else f"{power_pct:.0f} %"


def grid_plot(grid: list[dict], chosen: tuple[float | None, float | None]) -> GridPlot | None:
    """The power × speed grid as the card lays it out (power rising downwards, speed falling to the right), each
    cell shaded by its measured darkness and the chosen (power, speed) marked; None without a grid.

    Parameters
    ----------
    grid : list of dict
        ``{"power_pct", "speed_mm_min", "darkness"}`` per cell.
    chosen : tuple
        The chosen cell's (power_pct, speed_mm_min); (None, None) for none.

    Returns
    -------
    GridPlot or None
    """
    if not grid:
        return None
    powers = sorted({float(c["power_pct"]) for c in grid})
    speeds = sorted({float(c["speed_mm_min"]) for c in grid}, reverse=True)
    step = GRID_CELL + GRID_GAP
    cells = []
    for cell in grid:
        power, speed, dark = float(cell["power_pct"]), float(cell["speed_mm_min"]), float(cell.get("darkness", 0))
        is_chosen = chosen[0] is not None and math.isclose(power, chosen[0]) and math.isclose(speed, chosen[1] or 0)
        cells.append(
            GridCell(
                x=GRID_LABEL_W + speeds.index(speed) * step,
                y=GRID_HEAD_H + powers.index(power) * step,
                fill=shade(dark),
                dark_text=dark < 0.45,
                label=f"{dark * 100:.0f}",
                title=f"{power_label(power)} at {speed_label(speed)}: {dark:.0%} dark"
                + (" (chosen)" if is_chosen else ""),
                chosen=is_chosen,
            )
        )
    return GridPlot(
        cells=cells,
        powers=[(GRID_HEAD_H + i * step + GRID_CELL / 2, power_label(p)) for i, p in enumerate(powers)],
        speeds=[(GRID_LABEL_W + i * step + GRID_CELL / 2, metres(s)) for i, s in enumerate(speeds)],
        width=GRID_LABEL_W + len(speeds) * step - GRID_GAP + 2,
        height=GRID_HEAD_H + len(powers) * step - GRID_GAP + 2,
    )


# --- words ----------------------------------------------------------------------------------------------------------


def registration_quality(rms_px: float | None) -> tuple[str, str]:
    """(verdict, tone) for how well the photo lined up with the card or the artwork (RMS error in pixels)."""
    if rms_px is None:
        return "Not measured", "off"
    if rms_px < 0.6:
        return "Excellent", "ok"
    if rms_px < 1.5:
        return "Good", "ok"
    if rms_px < 3.0:
        return "Fair", "wait"
    return "Poor", "bad"


def mm(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} mm"


def machine_label(params: dict) -> str:
    spec = params.get("machine_spec") or {}
    machine = machines().get(params.get("machine") or "")
    return spec.get("label") or (machine.label if machine else params.get("machine") or "")


def material_label(name: str) -> str:
    material = materials().get(name)
    return material.label if material else name


def setup_summary(material: str, machine: str, mode: str, line_interval_mm: float | None) -> str:
    interval = f"{line_interval_mm:g} mm lines" if line_interval_mm else "the library's line interval"
    return " · ".join([material_label(material), machine, mode_label(mode), interval])


def card_settings(card: Job) -> CardSettings | None:
    try:
        return CardSettings.model_validate(card.params)
    except ValueError:  # a card made under rules since tightened: its page still shows
        return None


def assumed_mark(card: Job) -> tuple[float | None, str]:
    """(mark width, whose assumption) the card was made for: the library's, or the calibration a verify card used."""
    clean = card_settings(card)
    if clean is None:
        return None, "the library"
    if clean.calibration is not None:
        return clean.calibration.mark_diameter_mm, "your calibration"
    return clean.engine_machine().spot_mm + materials()[clean.material].spread_mm, "the library"


def verify_status(profile: CalibrationProfile) -> tuple[str, str]:
    """("Checked 7 Dec: tone within 1.2 %", tone) or the nudge to check it."""
    if profile.verified_at is None or profile.verify_error is None:
        return "Not checked yet: make a verify card", "off"
    within = f"Checked {profile.verified_at:%-d %b}: tone within {profile.verify_error * 100:.1f} %"
    return within, "ok" if profile.verify_error <= 0.05 else "wait"


# --- cards ----------------------------------------------------------------------------------------------------------

CARD_FILES = (
    ("png", "PNG", "The card as a picture at its exact DPI, for LightBurn or any software that engraves images."),
    ("gcode", "G-code", "Ready for a GRBL controller: the grid cell by cell in order, then the board and wedge."),
    ("svg", "SVG", "The same card as vectors, for software that prefers SVG or to place it on your bed."),
    ("card-json", "card.json", "The card's layout, which the reading uses. Keep it; you do not burn it."),
)


@dataclass
class StateBadge:
    state: str
    label: str
    tone: str
    running: bool


def job_state(job: Job) -> StateBadge:
    label, tone = STATE_DISPLAY.get(job.state, (job.state, "off"))
    return StateBadge(state=job.state, label=label, tone=tone, running=job.state not in TERMINAL_STATES)


def card_title(card: Job) -> str:
    verify = (card.params or {}).get("calibration")
    return f"{'Verify card' if verify else 'Test card'} #{card.pk}"


def card_row(card: Job) -> dict:
    params = card.params or {}
    return {
        "card": card,
        "title": card_title(card),
        "status": job_state(card),
        "summary": setup_summary(
            params.get("material", ""), machine_label(params), params.get("mode", ""), params.get("line_interval_mm")
        ),
    }


def card_context(*, owner, card: Job) -> dict:
    """The card's page: its state, the four files with what each is for, and its readings."""
    files = {asset.role: asset for asset in card.outputs.all()}
    layout = selectors.card_layout(card) if card.state == JobState.SUCCEEDED else {}
    readings = [
        {"job": reading, "status": job_state(reading), "result": reading.result or {}}
        for reading in selectors.card_readings(owner=owner, card=card)
    ]
    suggested = layout.get("suggested") or {}
    return {
        **card_row(card),
        "job": card,
        "verify": bool((card.params or {}).get("calibration")),
        "downloads": [
            {"label": label, "note": note, "asset": files[role]} for role, label, note in CARD_FILES if role in files
        ],
        "layout": layout,
        "size": f"{layout['width_mm']:g} × {layout['height_mm']:g} mm" if layout else "",
        "suggested_power": suggested.get("power_pct"),
        "suggested_speed": speed_label(suggested.get("speed_mm_min")) if suggested else "",
        "readings": readings,
        "read_cost": get_kind("engrave.card_read").cost,
        **upload_form_context(),
    }


# --- readings -------------------------------------------------------------------------------------------------------


def reading_report(result: dict, card: Job | None) -> dict:
    """A successful reading in a maker's words, with its plots."""
    verdict, tone = registration_quality(result.get("registration_rms_px"))
    measured = result.get("mark_diameter_mm")
    assumed, whose = assumed_mark(card) if card is not None else (None, "the library")
    best = result.get("best_cell") or {}
    grid_cells = (selectors.card_layout(card).get("grid") or []) if card is not None else []
    grid = [
        {"power_pct": cell["power_pct"], "speed_mm_min": cell["speed_mm_min"], "darkness": dark}
        for cell, dark in zip(grid_cells, result.get("grid_darkness") or [], strict=False)
    ]
    if measured and assumed:
        ratio = measured / assumed
        if abs(ratio - 1) < 0.08:
            mark_meaning = "That is close to the assumption, so previews were already about right."
        elif ratio > 1:
            mark_meaning = (
                f"Your marks spread {ratio - 1:.0%} wider than assumed, so artwork came out darker than previewed. "
                "Saving this calibration makes the studio compensate."
            )
        else:
            mark_meaning = (
                f"Your marks are {1 - ratio:.0%} narrower than assumed, so artwork came out lighter than previewed. "
                "Saving this calibration makes the studio compensate."
            )
    else:
        mark_meaning = ""
    residual = result.get("residual")
    return {
        "registration": verdict,
        "registration_tone": tone,
        "registration_px": result.get("registration_rms_px"),
        "tilt_deg": result.get("tilt_deg"),
        "measured_mark": mm(measured),
        "assumed_mark": mm(assumed),
        "assumed_whose": whose,
        "mark_meaning": mark_meaning,
        "tone_plot": tone_plot(result.get("tone_response") or []),
        "tone_error": percent(result.get("tone_error"), 1),
        "grid_plot": grid_plot(grid, (best.get("power_pct"), best.get("speed_mm_min"))),
        "power": power_label(best.get("power_pct")),
        "speed": speed_label(best.get("speed_mm_min")),
        "residual": percent(residual, 1),
        "residual_ok": residual is not None and residual < 0.1,
        "blur_mm": result.get("blur_mm"),
    }


REFUSAL_HELP = (
    "Take the photo again: the whole card in the frame, from straight above, in daylight or even light without "
    "glare, and sharp. Then upload it on the card's page."
)


def reading_context(*, owner, reading: Job) -> dict:
    """The reading's page: its progress, then the report, or why the photo was refused and what to do."""
    card = selectors.reading_card(reading)
    is_verify = bool(card is not None and (card.params or {}).get("calibration"))
    verify_profile = None
    if is_verify:
        profile_id = (card.params.get("calibration") or {}).get("profile")
        verify_profile = selectors.calibration_profile_get(owner=owner, profile_id=profile_id) if profile_id else None
    saved = (
        selectors.calibration_profiles(owner=owner).filter(read_job=reading).first()
        if reading.state == JobState.SUCCEEDED
        else None
    )
    return {
        "reading": reading,
        "job": reading,
        "status": job_state(reading),
        "card": card,
        "card_title": card_title(card) if card is not None else "",
        "card_summary": card_row(card)["summary"] if card is not None else "",
        "verify": is_verify,
        "verify_profile": verify_profile,
        "saved_profile": saved,
        "report": reading_report(reading.result, card) if reading.state == JobState.SUCCEEDED else None,
        "refusal_help": REFUSAL_HELP,
    }


# --- calibrations ---------------------------------------------------------------------------------------------------


def profile_row(profile: CalibrationProfile) -> dict:
    status, tone = verify_status(profile)
    return {
        "profile": profile,
        "setup": setup_summary(profile.material, profile.machine_label, profile.mode, profile.line_interval_mm),
        "kind": KIND_SHORT.get(profile.machine_kind, profile.machine_kind),
        "source": profile.get_source_display(),
        "mark": mm(profile.mark_diameter_mm),
        "power": power_label(profile.power_pct),
        "speed": speed_label(profile.speed_mm_min),
        "tone_plot": tone_plot(profile.tone_response),
        "grid_plot": grid_plot(profile.grid, (profile.power_pct, profile.speed_mm_min)),
        "verify_status": status,
        "verify_tone": tone,
        "residual": percent(profile.residual, 1),
    }


# --- How did it burn? ----------------------------------------------------------------------------------------------

# ΔL* within this is "as previewed" (about the smallest step people see side by side).
TONE_SAME_LSTAR = 2.0
TONE_BAR_LSTAR = 15.0  # the bar chart's half-width
TONE_BANDS = (("shadows", "Shadows"), ("midtones", "Mid-tones"), ("highlights", "Highlights"))


def tone_band_rows(metrics: dict) -> list[dict]:
    """Each tone band's error in plain words, with a bar from the middle (photo − preview, in ΔL*)."""
    rows = []
    for key, label in TONE_BANDS:
        value = metrics.get(f"tone_error_{key}")
        if value is None or (isinstance(value, float) and math.isnan(value)):
            rows.append({"label": label, "words": "Too little of the picture to judge", "bar": None, "value": "—"})
            continue
        if abs(value) < TONE_SAME_LSTAR:
            words = "As previewed"
        else:
            words = f"{abs(value):.0f} L* {'lighter' if value > 0 else 'darker'} than the preview"
        share = min(abs(value), TONE_BAR_LSTAR) / TONE_BAR_LSTAR * 50  # percent of the bar's width, from its middle
        rows.append(
            {
                "label": label,
                "words": words,
                "value": f"{value:+.1f}",
                "bar": {"x": 50 if value >= 0 else 50 - share, "width": max(share, 0.8), "lighter": value >= 0},
                "off": abs(value) >= TONE_SAME_LSTAR,
            }
        )
    return rows


def burn_report_context(report: BurnReport) -> dict:
    """A *How did it burn?* report: its state, its pictures and its measurements in plain words."""
    job = report.job
    metrics = report.metrics or {}
    status = job_state(job) if job else StateBadge("deleted", "Deleted", "off", False)
    contrast = metrics.get("contrast_achieved")
    sharpness = metrics.get("sharpness")
    soft_photo = (metrics.get("photo_blur_mm") or 0) > 0.12
    if sharpness is None:
        sharp_words = "—"
    elif soft_photo:
        sharp_words = "The photo is too soft to judge"
    elif sharpness >= 0.9:
        sharp_words = "As sharp as the preview"
    else:
        sharp_words = f"{sharpness:.0%} of the preview's sharpness"
    verdict, tone = registration_quality(metrics.get("registration_rms_px"))
    gain = metrics.get("mark_gain_mm")
    return {
        "report": report,
        "job": job,
        "status": status,
        "side_by_side": job_selectors.job_output(job, "side-by-side") if job else None,
        "difference": job_selectors.job_output(job, "difference") if job else None,
        "measured": bool(metrics) and status.state == JobState.SUCCEEDED,
        "bands": tone_band_rows(metrics),
        "contrast": percent(contrast),
        "contrast_low": contrast is not None and contrast < 0.85,
        "sharpness": sharp_words,
        "registration": verdict,
        "registration_tone": tone,
        "inliers": percent(metrics.get("inlier_ratio")),
        "mark": mm(metrics.get("mark_diameter_mm")),
        "assumed_mark": mm(metrics.get("assumed_mark_mm")),
        "mark_gain": f"{gain:+.2f} mm" if gain is not None else "—",
        "advice": report.advice or [],
        "keep_days": settings.RETENTION_PRIVATE_FEEDBACK_DAYS,
    }


# --- shared guidance ------------------------------------------------------------------------------------------------


def guidance_request(data) -> dict:
    """guidance_start's arguments for the setup the studio form names: material, mode, machine (or one of yours,
    "mine:<id>") and line interval."""
    machine = data.get("machine", "")
    mine = machine.startswith("mine:")
    return {
        "material": data.get("material", ""),
        "mode": data.get("mode", ""),
        "machine": None if mine else machine,
        "machine_profile": form_number(machine.removeprefix("mine:"), int) if mine else None,
        "line_interval_mm": form_number(data.get("line_interval_mm")),
    }
