"""The engraving library: the materials and machines the engine knows, with their suggested settings."""

from ninja import Field, Router, Schema

from intaglio.imaging.artwork import MODES, machines, materials

router = Router(tags=["engrave"])


class SuggestionOut(Schema):
    power_pct: float
    speed_mm_min: float
    passes: int


class MaterialOut(Schema):
    name: str
    label: str
    category: str
    polarity: str = Field(description='"dark": marks are darker than the surface; "light": lighter (inverted for you).')
    unburned_rgb: tuple[int, int, int]
    burned_rgb: tuple[int, int, int]
    line_interval_mm: float
    spread_mm: float = Field(description="How much wider than the laser spot a mark comes out (dot gain).")
    notes: str
    suggestions: dict[str, SuggestionOut] = Field(description="Suggested settings per machine kind.")
    default_adjustments: dict[str, float | bool]


class MachineOut(Schema):
    name: str
    label: str
    kind: str
    power_w: float
    spot_mm: float
    line_interval_mm: float
    max_feed_mm_min: float
    work_area_mm: tuple[float, float]
    s_max: int
    min_power_pct: float


class LibraryOut(Schema):
    materials: list[MaterialOut]
    machines: list[MachineOut]
    modes: list[str]


@router.get(
    "/engrave/library",
    response=LibraryOut,
    summary="Materials, machines and modes for laser artwork",
    description="The names engrave.prepare jobs take, with spot sizes, work areas and suggested settings.",
)
def library(request):
    return {"materials": list(materials().values()), "machines": list(machines().values()), "modes": list(MODES)}
