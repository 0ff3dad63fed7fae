"""Shared data for the engrave studio tests."""

# The machine-profile form as a person fills it in.
MACHINE = {
    "name": "Workshop diode",
    "kind": "diode",
    "power_w": "5.5",
    "spot_mm": "0.08",
    "line_interval_mm": "",
    "max_feed_mm_min": "6000",
    "work_area_w_mm": "410",
    "work_area_h_mm": "400",
    "s_max": "1000",
    "min_power_pct": "8",
}
