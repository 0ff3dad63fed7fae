"""LightBurn project files (.lbrn2): the prepared bitmap placed on the bed with its image layer's settings.

The format is LightBurn's XML as LightBurn writes it and as other readers (MeerK40t's LbrnLoader) parse it:
a ``<CutSetting_Img type="Image">`` layer whose settings are ``<name Value="…"/>`` children (speed in mm/s,
powers in percent, interval in mm), and a ``<Shape Type="Bitmap">`` with its size in millimetres (W, H), the
PNG in base64 (Data) and an ``<XForm>`` affine matrix "a b c d e f" whose translation (e, f) is the bitmap's
centre in bed coordinates (X right, Y up, as LightBurn's workspace and our G-code).

The bitmap is the exact prepared dither (or grey power map), sent with pass-through at its own DPI, so LightBurn
neither resamples nor re-dithers it ("threshold" for 1-bit, "grayscale" for power maps).
"""

from __future__ import annotations

import base64
from xml.sax.saxutils import quoteattr

from intaglio.imaging.artwork.outputs import _num

APP_VERSION = "1.4.00"  # the LightBurn file format generation these files follow (FormatVersion 1)


def lbrn2(prepared, laser=None, layout=None) -> str:
    """A LightBurn project that burns `prepared` at its size and position with the given settings.

    Parameters
    ----------
    prepared : PreparedArtwork
        The artwork; its PNG is embedded as the bitmap.
    laser : LaserSettings, optional
        Power, speed, passes, direction and air; by default `suggest_laser_settings` for its material and machine.
    layout : Layout, optional
        Where the piece sits (its anchor and offset; framing and mask are already in the pixels); by default the
        layout it was prepared with.

    Returns
    -------
    str
        The .lbrn2 XML.
    """
    from intaglio.imaging.artwork.burntime import estimate_burn_time
    from intaglio.imaging.artwork.laser import suggest_laser_settings

    laser = laser or suggest_laser_settings(prepared.material, prepared.machine)
    layout = layout or prepared.layout
    machine = prepared.machine
    x, y = layout.origin_mm(prepared.width_mm, prepared.height_mm, machine.work_area_mm)
    grey = prepared.power is not None
    settings = {
        "index": "0",
        "name": f"{prepared.material.label} ({prepared.mode})",
        "minPower": _num(machine.min_power_pct if grey else laser.power_pct),
        "maxPower": _num(laser.power_pct),
        "speed": _num(laser.speed_mm_min / 60.0),  # LightBurn keeps speeds in mm/s whatever the display unit
        "numPasses": str(laser.passes),
        "interval": _fine(prepared.px_mm),
        "dpi": _fine(prepared.dpi),
        "bidir": "1" if laser.bidirectional else "0",
        "runBlower": "1" if laser.air_assist else "0",
        "ditherMode": "grayscale" if grey else "threshold",
        "passThrough": "1",
        "negative": "0",
        "priority": "0",
    }
    setting_lines = "".join(f"        <{key} Value={quoteattr(value)}/>\n" for key, value in settings.items())
    data = base64.b64encode(prepared.png()).decode("ascii")
    duration = estimate_burn_time(prepared, laser, layout=layout)
    notes = (
        f"{prepared.material.label} on {machine.label}, {prepared.mode}, "
        f"{prepared.width_mm:.1f} x {prepared.height_mm:.1f} mm; {laser.power_pct:g} % at "
        f"{laser.speed_mm_min:g} mm/min, {laser.passes} pass(es); estimated {duration.text()}."
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<LightBurnProject AppVersion="{APP_VERSION}" FormatVersion="1" MaterialHeight="0" '
        'MirrorX="False" MirrorY="False">\n'
        '    <CutSetting_Img type="Image">\n'
        f"{setting_lines}"
        "    </CutSetting_Img>\n"
        f'    <Shape Type="Bitmap" CutIndex="0" W="{_num(prepared.width_mm)}" H="{_num(prepared.height_mm)}" '
        'Gamma="1" Contrast="0" Brightness="0" EnhanceAmount="0" EnhanceRadius="0" EnhanceDenoise="0" '
        f'Data="{data}">\n'
        f"        <XForm>1 0 0 1 {_num(x + prepared.width_mm / 2)} {_num(y + prepared.height_mm / 2)}</XForm>\n"
        "    </Shape>\n"
        f'    <Notes ShowOnLoad="0" Notes={quoteattr(notes)}/>\n'
        "</LightBurnProject>\n"
    )


def _fine(value: float) -> str:
    """6 decimals, trailing zeros dropped (line intervals such as 25.4 / 300 mm need more than 3)."""
    return f"{value:.6f}".rstrip("0").rstrip(".")
