"""A surface as a burned test card measured it, and what the engine does with it.

A card reading gives two things the library can only assume: the width of a real mark, and how dark an area looks
for the fraction of it the marks cover (`tone`: marked area → measured effective coverage, the card's wedge steps).
The engine sizes its dot-gain model with the measured mark and asks for the area whose measured darkness is the
wanted one, so compensation targets the real burn; the simulated burn shows the same measured darkness.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Calibration:
    """How one material takes one machine's marks in one mode at one line interval, measured from a card.

    Attributes
    ----------
    mark_diameter_mm : float
        The width of a burned stroke.
    tone : tuple of (float, float)
        ``(marked area, effective coverage)`` pairs, 0–1: the fraction of a wedge patch the marks cover (stroke
        model at `mark_diameter_mm`) and how much darker than bare it measured, as a fraction of a solid burn.
        Empty: darkness is taken to follow the marked area.
    """

    mark_diameter_mm: float
    tone: tuple[tuple[float, float], ...] = ()

    def __post_init__(self):
        if not 0.001 <= self.mark_diameter_mm <= 2.0:
            raise ValueError(f"A mark of {self.mark_diameter_mm:g} mm is outside 0.001–2 mm.")
        for area, effective in self.tone:
            if not (0.0 <= area <= 1.0 and -0.2 <= effective <= 1.2):
                raise ValueError("tone pairs are (area, effective coverage), each about 0–1")

    def _curve(self) -> tuple[np.ndarray, np.ndarray]:
        """The measured darkness as a non-decreasing function of area, from (0, 0) to (1, its value at 1)."""
        pairs = sorted((float(a), float(np.clip(e, 0.0, 1.0))) for a, e in self.tone)
        area = np.array([0.0] + [a for a, _ in pairs], dtype=np.float64)
        dark = np.array([0.0] + [e for _, e in pairs], dtype=np.float64)
        # Noise can make two neighbouring steps cross; darkness cannot fall as the marks cover more.
        dark = np.maximum.accumulate(dark)
        if area[-1] < 1.0:
            area, dark = np.append(area, 1.0), np.append(dark, dark[-1])
        return area, dark

    def darkness(self, area: np.ndarray) -> np.ndarray:
        """Effective coverage (as measured) of surfaces whose marks cover `area` of them.

        Parameters
        ----------
        area : numpy.ndarray
            Marked fraction, 0–1.

        Returns
        -------
        numpy.ndarray
            float32, the shape of `area`.
        """
        if not self.tone:
            return np.asarray(area, dtype=np.float32)
        x, y = self._curve()
        return np.interp(area, x, y).astype(np.float32)

    def darkness_map(self, area: np.ndarray, smooth_px: float = 4.0) -> np.ndarray:
        """Effective coverage pixel by pixel, for a map of how much of each pixel the marks cover.

        The measured darkness belongs to an area, not to one mark (light scatters in the surface between marks), so
        it is applied to the local mean area (a Gaussian of `smooth_px`); each pixel keeps its difference from that
        mean, scaled so it stays within 0–1. A region's mean is then the measured darkness of its marked area.

        Parameters
        ----------
        area : numpy.ndarray
            H×W marked fraction of each pixel, 0–1.
        smooth_px : float
            The scale of "local", in pixels.

        Returns
        -------
        numpy.ndarray
            H×W float32.
        """
        area = np.asarray(area, dtype=np.float32)
        if not self.tone:
            return area
        import cv2

        local = cv2.GaussianBlur(area, (0, 0), sigmaX=smooth_px, borderType=cv2.BORDER_REFLECT)
        shade = self.darkness(local)
        with np.errstate(divide="ignore", invalid="ignore"):
            room = np.minimum(
                np.where(local > 0, shade / local, 1.0), np.where(local < 1, (1 - shade) / (1 - local), 1.0)
            )
        return np.clip(shade + (area - local) * np.minimum(room, 1.0), 0.0, 1.0).astype(np.float32)

    def area_for(self, wanted: np.ndarray) -> np.ndarray:
        """The marked area whose measured darkness is `wanted` (the inverse of `darkness`).

        Parameters
        ----------
        wanted : numpy.ndarray
            Wanted effective coverage, 0–1; beyond the darkest measured, the area that gives it.

        Returns
        -------
        numpy.ndarray
            float32, the shape of `wanted`.
        """
        if not self.tone:
            return np.asarray(wanted, dtype=np.float32)
        x, y = self._curve()
        # Strictly increasing darkness for the inverse: flat stretches take their smallest area.
        y = y + np.arange(y.size) * 1e-9
        return np.interp(wanted, y, x).astype(np.float32)

    def as_json(self) -> dict:
        return {"mark_diameter_mm": self.mark_diameter_mm, "tone": [list(pair) for pair in self.tone]}

    @classmethod
    def from_json(cls, value: dict) -> Calibration:
        return cls(
            mark_diameter_mm=float(value["mark_diameter_mm"]),
            tone=tuple((float(a), float(e)) for a, e in value.get("tone", ())),
        )
