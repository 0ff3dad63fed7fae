"""prepare_artwork: a photo → laser-ready artwork for a named material and machine, at an exact physical size."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from functools import partial

import numpy as np
from PIL import Image

from intaglio.imaging.artwork import dotgain, halftone
from intaglio.imaging.artwork.calibrated import Calibration
from intaglio.imaging.artwork.errors import ArtworkError
from intaglio.imaging.artwork.fit import check_fit
from intaglio.imaging.artwork.laser import LaserSettings
from intaglio.imaging.artwork.layout import Layout, check_placement, frame_photo, mask_weights
from intaglio.imaging.artwork.library import Machine, Material, get_machine, get_material
from intaglio.imaging.artwork.tone import (
    _TO_SRGB_TABLE,
    FUSED_MIN_PIXELS,
    Adjustments,
    PhotoSource,
    adjust,
    linear_to_srgb,
    load_linear,
    open_source,
    srgb_to_linear,
)

BINARY_MODES = (
    "threshold",
    "bayer2",
    "bayer4",
    "bayer8",
    "blue-noise",
    *halftone.DIFFUSION_KERNELS,
    "halftone",
    "sketch",
    "stipple",
    "hatch",
)
MODES = (*BINARY_MODES, "grayscale")
# Modes that work on the adjusted luminance itself; the others take the halftoner's input straight from the tone chain.
_LUMINANCE_MODES = ("grayscale", "threshold", "sketch")
# Modes whose burn is lines of one width, written to SVG as strokes; hatch, whose lines carry the tone in their
# varying width, as the lines' filled outlines; the others as their exact bitmap.
LINE_MODES = ("sketch",)
OUTLINE_MODES = ("hatch",)
FITS = ("crop", "fit", "stretch")


@dataclass(frozen=True)
class ModeOptions:
    serpentine: bool = True  # error diffusion: alternate the scan direction per row
    threshold: float = 0.5  # threshold mode: the perceptual lightness (0–1) that splits burned from clear
    cell_mm: float | None = None  # halftone: screen cell size in mm (or give lpi)
    lpi: float | None = None  # halftone: lines per inch
    angle_deg: float = 45.0  # halftone and hatch: screen angle
    spacing_mm: float | None = None  # hatch: line spacing
    line_width_mm: float | None = None  # sketch: line width
    detail: float = 0.5  # sketch: 0 coarse … 1 fine
    seed: int = 0  # stipple: placement seed


@dataclass(frozen=True, eq=False)
class PreparedArtwork:
    """What `prepare_artwork` makes: the dots the laser fires at an exact size, and its files and simulated burn.

    Not to be confused with the studio's record of an artwork (engrave.models.Artwork), whose versions hold files
    made from one of these.
    """

    burn: np.ndarray  # H×W bool, row 0 at the top, True where the laser fires
    dpi: float
    width_mm: float
    height_mm: float
    material: Material
    machine: Machine
    mode: str
    mark_px: float  # diameter of one mark on this material, in pixels (0 = exactly one pixel)
    power: np.ndarray | None = None  # grayscale mode: H×W uint8 power, 0 = off … 255 = the range's top
    settings: dict = field(default_factory=dict)  # everything that made it, for reproducibility
    calibration: Calibration | None = None  # the measured surface it was made for, if any
    layout: Layout = field(default_factory=Layout)  # framing, mask and placement it was made with

    @property
    def px_mm(self) -> float:
        return 25.4 / self.dpi

    def effective_coverage(self) -> np.ndarray:
        """How much of each pixel's area ends up marked on the material (dot gain included)."""
        if self.power is not None:
            floor = self.machine.min_power_pct / 100
            above_floor = (self.power.astype(np.float32) / 255 - floor) / (1 - floor)
            darkness = np.where(self.power > 0, _tone_response(self.material, np.clip(above_floor, 0, 1)), 0.0)
            return _spread(darkness.astype(np.float32), self.mark_px)
        area = dotgain.effective_coverage(self.burn, self.mark_px)
        # A calibrated surface shows the darkness its card measured for that much marked area.
        return area if self.calibration is None else self.calibration.darkness_map(area)

    def simulate(self) -> np.ndarray:
        """The simulated burn: what the piece will look like on the material.

        Returns
        -------
        numpy.ndarray
            H×W×3 uint8 sRGB, with the surface's colours and texture and the marks' dot gain.
        """
        coverage = self.effective_coverage()
        unburned = srgb_to_linear(np.array(self.material.unburned_rgb, dtype=np.float32) / 255)
        burned = srgb_to_linear(np.array(self.material.burned_rgb, dtype=np.float32) / 255)
        texture = dotgain.material_texture(
            self.material.texture,
            self.burn.shape,
            strength=self.material.texture_strength,
            px_mm=self.px_mm,
            seed=sum(map(ord, self.material.name)),
        )
        if coverage.size < FUSED_MIN_PIXELS:
            linear = unburned * (1 - coverage[..., None]) + burned * coverage[..., None]
            return np.round(linear_to_srgb(linear * texture[..., None]) * 255).astype(np.uint8)
        from intaglio.imaging.artwork.fused import blend_to_srgb

        # One pass with the same float32 steps as the lines above, which a live preview would spend most time on.
        return blend_to_srgb(coverage, texture, unburned, burned, _SRGB_CODES)

    def simulated_burn_png(self) -> bytes:
        """The simulated burn as a file.

        Returns
        -------
        bytes
            `simulate` as an RGB PNG carrying the artwork's DPI.
        """
        buffer = io.BytesIO()
        Image.fromarray(self.simulate()).save(buffer, "PNG", dpi=(self.dpi, self.dpi), compress_level=6)
        return buffer.getvalue()

    def png(self) -> bytes:
        """The artwork for the laser program.

        Returns
        -------
        bytes
            A 1-bit PNG (black where the laser fires), or 8-bit grey power for grayscale mode, carrying its DPI.
        """
        from intaglio.imaging.artwork import outputs

        if self.power is not None:
            return outputs.png_gray(self.power, self.dpi)
        return outputs.png_1bit(self.burn, self.dpi)

    def gcode(self, laser: LaserSettings | None = None, *, layout: Layout | None = None) -> str:
        """GRBL raster G-code: M4 dynamic power, white runs skipped, placed on the bed by the layout.

        It opens with comment lines naming the job and its settings (material, machine, size, position, power,
        speed, passes, interval, overscan, air assist, estimated time), which LaserGRBL and other senders ignore.

        Parameters
        ----------
        laser : LaserSettings, optional
            Power, speed, passes, overscan, air assist and direction; by default `suggest_laser_settings` for the
            material and machine.
        layout : Layout, optional
            Where the piece sits (its anchor and offset; the framing and mask are already in the pixels); by
            default the layout it was prepared with.

        Returns
        -------
        str
        """
        from intaglio.imaging.artwork import outputs
        from intaglio.imaging.artwork.burntime import estimate_burn_time
        from intaglio.imaging.artwork.laser import suggest_laser_settings

        laser = laser or suggest_laser_settings(self.material, self.machine)
        layout = layout or self.layout
        origin = layout.origin_mm(self.width_mm, self.height_mm, self.machine.work_area_mm)
        duration = estimate_burn_time(self, laser, layout=layout)
        s_top = round(self.machine.s_max * laser.power_pct / 100)
        header = [
            "Intaglio raster engraving (GRBL 1.1, laser mode $32=1)",
            f"Material: {self.material.label}",
            f"Machine: {self.machine.label}",
            f"Mode: {self.mode}",
            f"Size: {self.width_mm:.2f} x {self.height_mm:.2f} mm ({self.burn.shape[1]} x {self.burn.shape[0]} px)",
            f"Position: X{origin[0]:.2f} Y{origin[1]:.2f} (lower-left corner)",
            f"Power: {laser.power_pct:g} % (S{s_top} of S{self.machine.s_max})",
            f"Speed: {laser.speed_mm_min:g} mm/min",
            f"Passes: {laser.passes}",
            f"Interval: {self.px_mm:.4f} mm ({self.dpi:.1f} DPI)",
            f"Overscan: {laser.overscan_mm:g} mm",
            f"Direction: {'bidirectional' if laser.bidirectional else 'left to right'}",
            f"Air assist: {'on' if laser.air_assist else 'off'}",
            f"Estimated time: {duration.text()}",
        ]
        return outputs.gcode(
            self.power if self.power is not None else self.burn,
            px_mm=self.px_mm,
            feed_mm_min=laser.speed_mm_min,
            s_max=self.machine.s_max,
            s_min=self.machine.s_min,
            power_pct=laser.power_pct,
            passes=laser.passes,
            overscan_mm=laser.overscan_mm,
            bidirectional=laser.bidirectional,
            air_assist=laser.air_assist,
            origin=origin,
            header_comment="\n".join(header),
        )

    def svg(self) -> str:
        """The artwork as an SVG at its size in millimetres.

        Line art (sketch) is centre-line strokes of the mode's line width; hatch is its lines' filled outlines
        (their varying width is the tone), which a laser program can fill, score or cut; every other mode embeds
        the exact 1-bit (or grey) PNG, so nothing is resampled or traced.

        Returns
        -------
        str
        """
        from intaglio.imaging.artwork import outputs

        if self.mode in LINE_MODES:
            return outputs.svg_strokes(self.burn, px_mm=self.px_mm, line_width_mm=self.line_width_mm())
        if self.mode in OUTLINE_MODES:
            return outputs.svg_outlines(self.burn, px_mm=self.px_mm)
        return outputs.svg_image(self.png(), width_mm=self.width_mm, height_mm=self.height_mm)

    def line_width_mm(self) -> float:
        """The width of the lines sketch mode draws: its line_width_mm, by default one pixel (as creative.sketch)."""
        width = (self.settings.get("options") or {}).get("line_width_mm")
        return max(float(width), self.px_mm) if width else self.px_mm


# linear light (tone.lookup's index) → the 8-bit sRGB code simulate writes.
_SRGB_CODES = np.round(_TO_SRGB_TABLE * 255).astype(np.uint8)


def _tone_response(material: Material, power: np.ndarray) -> np.ndarray:
    xs, ys = zip(*material.tone_curve, strict=True)
    return np.interp(power, xs, ys).astype(np.float32)


def _inverse_tone_response(material: Material, darkness: np.ndarray) -> np.ndarray:
    xs, ys = zip(*material.tone_curve, strict=True)
    return np.interp(darkness, ys, xs).astype(np.float32)


def _coverage(luminance: np.ndarray, material: Material) -> np.ndarray:
    """Burn coverage wanted: dark-marking surfaces burn where the picture is dark, light-marking ones where light."""
    return luminance if material.polarity == "light" else 1.0 - luminance


def _masked(luminance: np.ndarray, weights: np.ndarray | None, material: Material) -> np.ndarray:
    """Outside the mask the picture fades to the surface's own colour: nothing to burn there."""
    if weights is None:
        return luminance
    blank = np.float32(1.0 if material.polarity == "dark" else 0.0)
    return blank + (luminance - blank) * weights


def _spread(darkness: np.ndarray, mark_px: float) -> np.ndarray:
    if mark_px <= 1:
        return darkness
    import cv2

    return cv2.GaussianBlur(darkness, (0, 0), sigmaX=max(0.3, (mark_px - 1) / 2.355))


def _source_size(image) -> tuple[int, int]:
    if isinstance(image, np.ndarray):
        return image.shape[1], image.shape[0]
    if isinstance(image, PhotoSource):
        return image.size
    orientation = image.getexif().get(0x0112, 1)
    return (image.height, image.width) if orientation in (5, 6, 7, 8) else image.size


def _halftoner(mode: str, options: ModeOptions, *, px_mm: float, spot_px: float, mark_px: float):
    """The halftoning function for a mode, and a hashable key describing it (for the compensation cache)."""
    if mode in halftone.DIFFUSION_KERNELS:
        # Where marks are wider than pixels, diffuse the error against what the surface will show.
        spill = dotgain.neighbour_spill(mark_px)
        return (
            partial(halftone.error_diffusion, kernel=mode, serpentine=options.serpentine, spill=spill),
            (mode, options.serpentine, spill),
        )
    if mode in halftone.ORDERED_SIZES:
        return partial(halftone.ordered, n=halftone.ORDERED_SIZES[mode]), (mode,)
    if mode == "blue-noise":
        return halftone.blue_noise_dither, (mode,)
    if mode == "halftone":
        cell_mm = 25.4 / options.lpi if options.lpi else (options.cell_mm or max(0.6, 6 * px_mm))
        cell_px = cell_mm / px_mm
        if cell_px < 2:
            raise ArtworkError(
                f"A {cell_mm:.2f} mm halftone cell is under two pixels at this resolution; use a larger cell."
            )
        return partial(halftone.clustered, cell_px=cell_px, angle_deg=options.angle_deg), (
            mode,
            round(cell_px, 3),
            options.angle_deg,
        )
    from intaglio.imaging.artwork import creative

    if mode == "stipple":
        return (
            partial(creative.stipple, spot_px=max(1.0, spot_px), px_mm=px_mm, seed=options.seed),
            (mode, round(spot_px, 2), options.seed),
        )
    if mode == "hatch":
        return (
            partial(
                creative.hatch,
                spot_px=max(1.0, spot_px),
                px_mm=px_mm,
                angle_deg=options.angle_deg,
                spacing_mm=options.spacing_mm,
            ),
            (mode, round(spot_px, 2), options.angle_deg, options.spacing_mm),
        )
    raise ArtworkError(f"Unknown mode {mode!r}. Modes: {', '.join(MODES)}.")


def prepare_artwork(
    source,
    *,
    material: str | Material,
    machine: str | Machine,
    width_mm: float,
    height_mm: float | None = None,
    mode: str = "floyd-steinberg",
    dpi: float | None = None,
    line_interval_mm: float | None = None,
    fit: str = "crop",
    compensate_dot_gain: bool = True,
    serpentine: bool = True,
    threshold: float = 0.5,
    cell_mm: float | None = None,
    lpi: float | None = None,
    angle_deg: float = 45.0,
    spacing_mm: float | None = None,
    line_width_mm: float | None = None,
    detail: float = 0.5,
    seed: int = 0,
    calibration: Calibration | None = None,
    layout: Layout | None = None,
    **adjustments,
) -> PreparedArtwork:
    """Turns a photo into laser-ready artwork for `material` on `machine`, at an exact physical size.

    Tone: the burned area reproduces the picture's reflectance in linear light, after dot gain on the material.

    Parameters
    ----------
    source : str, Path, bytes, PIL.Image.Image, numpy.ndarray or PhotoSource
        The photo; a `PhotoSource` keeps its loaded pixels for the next call (a live preview).
    material, machine : str, Material or Machine
        A library name (see `materials`, `machines`) or a description of one.
    width_mm : float
        The width of the piece, in millimetres.
    height_mm : float, optional
        Its height; by default the photo's aspect at `width_mm`. Given, the photo is framed by `fit`.
    mode : str
        One of `MODES`.
    dpi, line_interval_mm : float, optional
        The resolution (give one at most); by default the coarser of the material's and the machine's line
        interval. The size in pixels is round(mm / interval).
    fit : {"crop", "fit", "stretch"}
        How the photo fills a given width and height.
    compensate_dot_gain : bool
        Whether halftones are corrected for marks wider than pixels.
    serpentine, threshold, cell_mm, lpi, angle_deg, spacing_mm, line_width_mm, detail, seed
        The mode's own settings (see `ModeOptions`).
    calibration : Calibration, optional
        The surface as a burned test card measured it (mark width and darkness by marked area): used instead of
        the library's assumption, so dot-gain compensation targets the real burn. Its line interval, material,
        machine and mode are the caller's to match.
    layout : Layout, optional
        Framing and placement: the photo is cropped, turned and mirrored before it is sized (so a width alone
        follows the framed photo's aspect), the mask is applied to the tone before halftoning (nothing burns
        outside it), and the anchor and offset place the piece on the bed (checked against the work area).
    **adjustments
        Tone adjustments (see tone.Adjustments); each overrides the material's default.

    Returns
    -------
    PreparedArtwork
        The burn mask and everything needed to write its files.

    Raises
    ------
    ArtworkError
        For settings the engine cannot use, or a piece that does not fit the machine's work area (`check_fit`,
        `check_placement`).
    """
    material = get_material(material)
    machine = get_machine(machine)
    if mode not in MODES:
        raise ArtworkError(f"Unknown mode {mode!r}. Modes: {', '.join(MODES)}.")
    if fit not in FITS:
        raise ArtworkError(f"fit must be one of {', '.join(FITS)}, not {fit!r}.")
    if dpi is not None and line_interval_mm is not None:
        raise ArtworkError("Give dpi or line_interval_mm, not both.")
    interval = line_interval_mm or (25.4 / dpi if dpi else max(material.line_interval_mm, machine.line_interval_mm))
    if not 0.005 <= interval <= 2:
        raise ArtworkError(f"A line interval of {interval:.4f} mm is outside 0.005–2 mm.")
    if width_mm <= 0 or (height_mm is not None and height_mm <= 0):
        raise ArtworkError("Width and height must be positive.")
    try:
        options_adjustments = Adjustments.from_kwargs({**material.default_adjustments, **adjustments})
    except ValueError as invalid:
        raise ArtworkError(str(invalid)) from None
    options = ModeOptions(serpentine, threshold, cell_mm, lpi, angle_deg, spacing_mm, line_width_mm, detail, seed)

    layout = layout or Layout()
    if layout.problem():
        raise ArtworkError(layout.problem())

    image = open_source(source)
    if layout.changes_photo:
        # A photo source keeps its framings too (a live preview of a cropped or turned layout).
        image = image.framed(layout) if isinstance(image, PhotoSource) else frame_photo(image, layout)
    src_w, src_h = _source_size(image)  # upright size, from the header; load_linear turns the pixels
    size = check_fit(
        machine, width_mm=width_mm, height_mm=height_mm, source_size=(src_w, src_h), line_interval_mm=interval
    )
    if size.problem:
        raise ArtworkError(size.problem)
    width_px, height_px = size.width_px, size.height_px
    true_w, true_h = size.width_mm, size.height_mm
    if width_px * height_px > 400_000_000:
        raise ArtworkError("That is more than 400 million pixels; use a coarser line interval or a smaller size.")
    misplaced = check_placement(layout, width_mm=true_w, height_mm=true_h, machine=machine)
    if misplaced:
        raise ArtworkError(misplaced)

    isolate = options_adjustments.isolate_subject
    # A picture that needs no resampling stays 8-bit until the tone chain (one table for all its pixels).
    loaded = load_linear(image, size=(width_px, height_px), fit=fit, keep_rgb=isolate, as_codes=not isolate)
    source_luminance, rgb = loaded if isolate else (loaded, None)
    weights = mask_weights((height_px, width_px), interval, layout.mask, layout.mask_edge)

    ideal = material.category == "reference"
    if calibration is not None:
        mark_px = calibration.mark_diameter_mm / interval
    else:
        mark_px = dotgain.mark_diameter_px(
            spot_mm=machine.spot_mm, spread_mm=material.spread_mm, px_mm=interval, ideal=ideal
        )
    spot_px = machine.spot_mm / interval
    power = None
    if mode in _LUMINANCE_MODES:
        luminance = _masked(adjust(source_luminance, options_adjustments, px_mm=interval, rgb=rgb), weights, material)
        coverage = _coverage(luminance, material)
    if mode == "grayscale":
        # The material's tone curve spans the machine's marking range: from its lowest marking power to full.
        floor = machine.min_power_pct / 100
        power_fraction = floor + (1 - floor) * _inverse_tone_response(material, coverage)
        power_fraction = np.where(coverage > 1 / 510, power_fraction, 0.0)
        power = np.round(power_fraction * 255).astype(np.uint8)
        burn = power > 0
    elif mode == "threshold":
        # A hard cut is judged by eye, so it is made on perceptual lightness: 0.5 splits at mid-grey as seen.
        lightness = linear_to_srgb(luminance)
        cut = np.float32(threshold)
        burn = lightness > cut if material.polarity == "light" else lightness < cut
    elif mode == "sketch":
        from intaglio.imaging.artwork import creative

        burn = creative.sketch(
            luminance if material.polarity == "dark" else 1.0 - luminance,
            px_mm=interval,
            line_width_mm=line_width_mm,
            detail=detail,
        )
    else:
        halftoner, key = _halftoner(mode, options, px_mm=interval, spot_px=spot_px, mark_px=mark_px)

        def to_halftoner_input(linear):
            # Pointwise, so adjust folds it into its last table: from the picture to the halftoner in one pass.
            wanted = _coverage(linear, material)
            if calibration is not None:
                # The area whose measured darkness is the wanted tone; the dot-gain model then sizes the marks.
                wanted = calibration.area_for(wanted)
            if compensate_dot_gain:
                # On the ideal surface this only corrects modes that are not tone-exact by themselves (Atkinson
                # drops a quarter of its error by design); elsewhere it undoes the dot gain.
                wanted = dotgain.compensate(wanted, key, mark_px, halftoner)
            return wanted

        if weights is None:
            coverage = adjust(source_luminance, options_adjustments, px_mm=interval, rgb=rgb, then=to_halftoner_input)
        else:
            # The mask fades pixel by pixel, between the adjustments and the coverage: no table runs through it.
            luminance = adjust(source_luminance, options_adjustments, px_mm=interval, rgb=rgb)
            coverage = to_halftoner_input(_masked(luminance, weights, material))
        del source_luminance, rgb
        burn = halftoner(np.ascontiguousarray(coverage, dtype=np.float32))

    if weights is not None:
        burn = burn & (
            weights > 0
        )  # a dot spilling over the mask's edge (dot-gain compensation, sketch lines) stays off
        if power is not None:
            power[~burn] = 0

    return PreparedArtwork(
        burn=burn,
        dpi=25.4 / interval,
        width_mm=true_w,
        height_mm=true_h,
        material=material,
        machine=machine,
        mode=mode,
        mark_px=mark_px,
        power=power,
        calibration=calibration,
        layout=layout,
        settings={
            "material": material.name,
            "machine": machine.name,
            "mode": mode,
            "width_px": width_px,
            "height_px": height_px,
            "line_interval_mm": interval,
            "fit": fit,
            "compensate_dot_gain": compensate_dot_gain,
            "options": options.__dict__,
            "adjustments": options_adjustments.__dict__,
            "layout": layout.__dict__,
            **({"calibration": calibration.as_json()} if calibration is not None else {}),
        },
    )
