"""Design preservation: does a generated image still show the piece of its reference images?

Reached as ``from intaglio.imaging.jewellery.preservation import check_preservation``. Pure (numpy, OpenCV); the
piece, its metal and its stones are read with the analyser's own segmentation (`analysis.read_scene`).

For each reference, the output is first **aligned** to it: ORB features on the two pieces, matched and fitted with
a RANSAC similarity (rotation, scale, shift); the silhouettes' moments (centroid, area, principal axis) give other
candidates, and the one whose warped silhouette overlaps the reference best is kept. Then, in the reference's frame:

- **outline**: where the silhouettes disagree once a thin band along the edge (alignment, anti-aliasing, JPEG) is
  opened away: in all (a different outline), and patch by patch (a prong or a clasp that went, a part that grew);
- **stones**: each coloured stone of the reference is looked up at its place in the output: it is *missing* when
  what is there has lost the stone's colour (it became metal or backdrop), *recoloured* when its hue moved far; a
  saturated blob in the output where the reference has none is an *added* stone;
- **metal**: the median Lab chroma and hue of the metal pixels, named yellow gold, rose gold or white; a changed
  name with a real shift in (a, b) is a changed metal.

Each finding has a severity (1 at its threshold); the score is ``0.5 ** max severity`` (1: nothing moved; below
`FLAG_BELOW` = 0.5: a named change). With several references the best-matching one decides. Thresholds were set on
bench seeds 1–3 of ``bench/jewellery_preservation.py``; other seeds are held out for reporting.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import cv2
import numpy as np

from intaglio.imaging.jewellery.analysis import decode_image, read_scene

__all__ = ["FLAG_BELOW", "PreservationCheck", "check_preservation", "compare_to_reference"]

#: A score below this means the design may have changed (at least one named change).
FLAG_BELOW = 0.5

# Outline: where the silhouettes disagree, once opened by a disk of OUTLINE_BAND of the piece's size (edge jitter,
# JPEG ragging): OUTLINE_SHARE of the piece's area in all is a changed outline, and one patch of PATCH_SHARE is a
# local change (a prong, a clasp).
OUTLINE_BAND = 0.02
OUTLINE_SHARE = 0.12
PATCH_SHARE = 0.002
# The outline is judged only when both cut-outs are steady (IoU with a softened copy's cut-out at least this).
STEADY_CUT = 0.93
# Part of the piece that stood out from its backdrop (by PART_CONTRAST in Lab) and now keeps less than PART_KEPT of
# that contrast, in a patch of PART_PATCH_SHARE of the piece: a prong, a claw or part of the setting went.
PART_CONTRAST = 12.0
PART_KEPT = 0.4
PART_PATCH_SHARE = 0.0015
# Stones: smallest stone considered (share of the piece's area), the hue turn that is another colour, and the
# share of its chroma a stone may lose before it counts as gone.
STONE_SHARE = 0.004
STONE_HUE_TURN = 40.0
STONE_CHROMA_KEPT = 0.45
# Metal: chroma below which metal is white (at L 60), the yellow/rose hue split, and the (a, b) shift that counts.
WHITE_CHROMA = 9.0
ROSE_YELLOW_HUE = 63.0
METAL_SHIFT = 7.0

METAL_WORDS = {"yellow_gold": "yellow gold", "rose_gold": "rose gold", "white_metal": "white"}


@dataclass(frozen=True)
class PreservationCheck:
    """The outcome of comparing one output with its references.

    ``score`` is 0..1 (1: the design is kept); ``changes`` name what moved, in words for the user (empty when the
    score is at least `FLAG_BELOW`); ``measures`` holds the figures behind them (IoU, stone counts, metal hues,
    the alignment used)."""

    score: float
    changes: list[str] = field(default_factory=list)
    measures: dict = field(default_factory=dict)

    @property
    def flagged(self) -> bool:
        return self.score < FLAG_BELOW


@dataclass
class _Piece:
    rgb: np.ndarray
    lab: np.ndarray
    mask: np.ndarray
    metal: np.ndarray
    stones: np.ndarray
    steady: float  # IoU of the cut-out with the cut-out of the same image slightly softened: 1 = a steady cut-out


def _read(rgb: np.ndarray) -> _Piece:
    scene = read_scene(rgb)
    # The same image, softened a little (as a re-encode or a resize would): a cut-out that moves much under that
    # (white metal on a white sweep, say) cannot tell an outline change from its own noise.
    again = read_scene(cv2.GaussianBlur(scene.rgb, (0, 0), 1.2)).mask
    steady = _iou(scene.mask, again) if again.shape == scene.mask.shape else 0.0
    return _Piece(scene.rgb, scene.lab, scene.mask, scene.metal_pixels, scene.stones, steady)


def _disk(r: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))


# ------------------------------------------------------------------------------------------------------ alignment


def _warp_mask(mask: np.ndarray, m: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    warped = cv2.warpAffine(mask.astype(np.uint8) * 255, m, (shape[1], shape[0]), flags=cv2.INTER_LINEAR)
    return warped > 127


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 0.0


def _similarity(angle: float, scale: float, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """2×3 matrix rotating by `angle` and scaling about `src`, then moving it onto `dst`."""
    c, s = scale * math.cos(angle), scale * math.sin(angle)
    rot = np.array([[c, -s], [s, c]])
    return np.hstack([rot, (dst - rot @ src)[:, None]]).astype(np.float64)


def _moments(mask: np.ndarray) -> tuple[np.ndarray, float, float, float]:
    """(centroid, area, principal angle, anisotropy 0..1) of a silhouette."""
    m = cv2.moments(mask.astype(np.uint8), binaryImage=True)
    area = m["m00"]
    centre = np.array([m["m10"] / area, m["m01"] / area])
    mu20, mu02, mu11 = m["mu20"] / area, m["mu02"] / area, m["mu11"] / area
    angle = 0.5 * math.atan2(2 * mu11, mu20 - mu02)
    spread = math.hypot(mu20 - mu02, 2 * mu11) / max(mu20 + mu02, 1e-9)
    return centre, area, angle, spread


def _feature_candidate(ref: _Piece, out: _Piece) -> tuple[np.ndarray | None, int]:
    orb = cv2.ORB_create(nfeatures=1500)
    grey = [cv2.cvtColor(p.rgb, cv2.COLOR_RGB2GRAY) for p in (ref, out)]
    masks = [cv2.dilate(p.mask.astype(np.uint8) * 255, _disk(4)) for p in (ref, out)]
    (kr, dr), (ko, do) = (orb.detectAndCompute(g, m) for g, m in zip(grey, masks, strict=True))
    if dr is None or do is None or len(kr) < 8 or len(ko) < 8:
        return None, 0
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(do, dr, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.8 * p[1].distance]
    if len(good) < 8:
        return None, 0
    src = np.float32([ko[g.queryIdx].pt for g in good])
    dst = np.float32([kr[g.trainIdx].pt for g in good])
    m, inliers = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=3.0)
    count = int(inliers.sum()) if inliers is not None else 0
    if m is None or count < 8:
        return None, count
    scale = math.hypot(m[0, 0], m[1, 0])
    if not 0.25 < scale < 4:
        return None, count
    return m, count


def _align(ref: _Piece, out: _Piece) -> tuple[np.ndarray, dict]:
    """The output→reference similarity whose warped silhouette overlaps the reference best."""
    shape = ref.mask.shape
    c_ref, a_ref, t_ref, spread_ref = _moments(ref.mask)
    c_out, a_out, t_out, spread_out = _moments(out.mask)
    scale = math.sqrt(a_ref / a_out)
    turns = [0.0]
    if min(spread_ref, spread_out) > 0.08:  # a clear principal axis: its angle, either way round
        turns += [t_ref - t_out, t_ref - t_out + math.pi]
    candidates = [("moments", _similarity(turn, scale, c_out, c_ref)) for turn in turns]
    matrix, inliers = _feature_candidate(ref, out)
    if matrix is not None:
        candidates.append(("features", matrix))
    scored = [(_iou(ref.mask, _warp_mask(out.mask, m, shape)), name, m) for name, m in candidates]
    iou, name, best = max(scored, key=lambda row: row[0])
    refined = _refine(ref.mask, out.mask, best)
    if refined is not None:
        better = _iou(ref.mask, _warp_mask(out.mask, refined, shape))
        if better > iou:
            iou, name, best = better, f"{name}+ecc", refined
    return best, {"alignment": name, "feature_inliers": inliers, "iou": round(iou, 4)}


def _refine(ref_mask: np.ndarray, out_mask: np.ndarray, start: np.ndarray) -> np.ndarray | None:
    """The similarity refined by ECC on the two silhouettes (blurred, so the fit sees a slope to climb): closes the
    last degrees and pixels a symmetric piece leaves the candidates with."""
    sigma = max(2.0, 0.01 * math.sqrt(ref_mask.sum()))
    blur = [cv2.GaussianBlur(m.astype(np.float32), (0, 0), sigma) for m in (ref_mask, out_mask)]
    # ECC maps template coordinates to input coordinates: here reference → output, the inverse of `start`.
    inverse = cv2.invertAffineTransform(start).astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 60, 1e-5)
    try:
        _, warp = cv2.findTransformECC(blur[0], blur[1], inverse, cv2.MOTION_AFFINE, criteria, None, 5)
    except cv2.error:
        return None
    return cv2.invertAffineTransform(warp).astype(np.float64)


# --------------------------------------------------------------------------------------------------------- words


def _where(point: np.ndarray, mask: np.ndarray) -> str:
    """ "near the top left", "near the bottom", "in the middle": a point's place on the piece's bounding box."""
    ys, xs = np.nonzero(mask)
    cx, cy = (xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2
    dx = (point[0] - cx) / max((xs.max() - xs.min()) / 2, 1)
    dy = (point[1] - cy) / max((ys.max() - ys.min()) / 2, 1)
    vertical = "top" if dy < -0.33 else "bottom" if dy > 0.33 else ""
    horizontal = "left" if dx < -0.33 else "right" if dx > 0.33 else ""
    words = " ".join(word for word in (vertical, horizontal) if word)
    return f"near the {words}" if words else "in the middle"


def _colour_word(lab: np.ndarray) -> str:
    """A stone colour (vocabulary.STONE_COLOURS) from a median Lab."""
    L, a, b = (float(v) for v in lab)
    chroma, hue = math.hypot(a, b), math.degrees(math.atan2(b, a)) % 360
    if chroma < 12:
        return "black" if L < 25 else "colourless"
    for upper, word in ((15, "pink"), (50, "red"), (70, "orange"), (105, "yellow"), (200, "green"), (315, "blue")):
        if hue < upper:
            return "pink" if word == "red" and L > 60 else word
    return "purple" if hue < 345 else "pink"


def _metal_word(ab: np.ndarray, L: float) -> str:
    chroma, hue = math.hypot(*ab), math.degrees(math.atan2(ab[1], ab[0]))
    if chroma < WHITE_CHROMA * float(np.clip(L / 60.0, 0.6, 1.2)):
        return "white_metal"
    return "yellow_gold" if hue >= ROSE_YELLOW_HUE else "rose_gold"


# ------------------------------------------------------------------------------------------------------ findings


def _fragments(mask: np.ndarray) -> int:
    """Parts plus holes of a silhouette (each at least 0.5 % of its area): a segmentation that broke up shows more."""
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    least = 0.005 * mask.sum()
    return sum(cv2.contourArea(c) >= least for c in contours)


def _smooth(mask: np.ndarray, r: int) -> np.ndarray:
    m = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, _disk(r))
    return cv2.morphologyEx(m, cv2.MORPH_CLOSE, _disk(r)).astype(bool)


def _outline(ref: _Piece, warped_mask: np.ndarray) -> list[tuple[float, str]]:
    area = float(ref.mask.sum())
    band = max(2, round(OUTLINE_BAND * math.sqrt(area)))
    # Each silhouette is smoothed first (spikes and notches a compressed image's cut-out has), then what differs.
    ref_mask, out_mask = (_smooth(m, band) for m in (ref.mask, warped_mask))
    diff = cv2.morphologyEx((ref_mask ^ out_mask).astype(np.uint8), cv2.MORPH_OPEN, _disk(band))
    findings = [(diff.sum() / (OUTLINE_SHARE * area), "the outline of the piece changed")]
    n, labels, stats, centroids = cv2.connectedComponentsWithStats(diff, connectivity=8)
    for i in range(1, n):
        severity = stats[i, cv2.CC_STAT_AREA] / (PATCH_SHARE * area)
        if severity > 0.2:
            findings.append((severity, f"the outline changed {_where(centroids[i], ref.mask)}"))
    return findings


def _backdrop_distance(piece: _Piece) -> np.ndarray:
    """Per pixel, the Lab distance to the backdrop just around the piece (its median in a band outside the mask)."""
    size = max(3, round(0.03 * math.sqrt(piece.mask.sum())))
    near = cv2.dilate(piece.mask.astype(np.uint8), _disk(3 * size)).astype(bool)
    band = near & ~cv2.dilate(piece.mask.astype(np.uint8), _disk(size)).astype(bool)
    if band.sum() < 20:
        return np.full(piece.mask.shape, 100.0, np.float32)
    return np.linalg.norm(piece.lab - np.median(piece.lab[band], axis=0), axis=2).astype(np.float32)


def _part_gone(ref: _Piece, out: _Piece, matrix: np.ndarray, valid: np.ndarray) -> list[tuple[float, str]]:
    """Patches the reference shows standing out from its backdrop and the output, at the same place, shows as
    backdrop: a prong, a claw or part of the setting that was erased into the background."""
    shape = ref.mask.shape
    was = _backdrop_distance(ref)
    now = cv2.warpAffine(_backdrop_distance(out), matrix, (shape[1], shape[0]), flags=cv2.INTER_LINEAR)
    inner = cv2.erode(ref.mask.astype(np.uint8), _disk(1)).astype(bool) & valid
    gone = inner & (was > PART_CONTRAST) & (now < PART_KEPT * was) & (now < PART_CONTRAST)
    gone = cv2.morphologyEx(gone.astype(np.uint8), cv2.MORPH_OPEN, _disk(2))
    area = float(ref.mask.sum())
    n, labels, stats, centroids = cv2.connectedComponentsWithStats(gone, connectivity=8)
    findings = []
    for i in range(1, n):
        severity = stats[i, cv2.CC_STAT_AREA] / (PART_PATCH_SHARE * area)
        if severity > 0.2:
            where = _where(centroids[i], ref.mask)
            findings.append((severity, f"part of the piece is missing {where} (a prong or part of the setting)"))
    return findings


def _stone_blobs(stones: np.ndarray, min_area: float) -> list[np.ndarray]:
    n, labels, stats, _ = cv2.connectedComponentsWithStats(stones.astype(np.uint8), connectivity=8)
    return [labels == i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= min_area]


def _median_lab(lab: np.ndarray, where: np.ndarray) -> np.ndarray:
    return np.median(lab[where], axis=0)


def _stones(ref: _Piece, out_lab: np.ndarray, out_stones: np.ndarray, valid: np.ndarray) -> tuple[list, dict]:
    area = float(ref.mask.sum())
    ref_blobs = _stone_blobs(ref.stones, STONE_SHARE * area)
    out_blobs = _stone_blobs(out_stones & valid, STONE_SHARE * area)
    findings: list[tuple[float, str]] = []
    for blob in ref_blobs:
        radius = math.sqrt(blob.sum() / math.pi)
        core = cv2.erode(blob.astype(np.uint8), _disk(max(1, round(0.25 * radius)))).astype(bool) & valid
        if core.sum() < 6:
            continue
        was, now = _median_lab(ref.lab, core), _median_lab(out_lab, core)
        c_was, c_now = math.hypot(*was[1:]), math.hypot(*now[1:])
        if c_was < 15:
            continue  # a colourless stone: its colour says nothing of whether it is there
        where = _where(np.array([np.nonzero(blob)[1].mean(), np.nonzero(blob)[0].mean()]), ref.mask)
        kept = c_now / c_was
        if kept < 1:
            findings.append(((1 - kept) / (1 - STONE_CHROMA_KEPT), f"a stone is missing {where}"))
        if c_now >= 15:
            turn = abs((math.degrees(math.atan2(now[2], now[1]) - math.atan2(was[2], was[1])) + 180) % 360 - 180)
            name_was, name_now = _colour_word(was), _colour_word(now)
            if name_was != name_now or turn > STONE_HUE_TURN:
                findings.append(
                    (turn / STONE_HUE_TURN, f"the stone {where} changed colour from {name_was} to {name_now}")
                )
    near_ref = cv2.dilate(ref.stones.astype(np.uint8), _disk(3)).astype(bool)
    for blob in out_blobs:
        overlap = (blob & near_ref).sum() / blob.sum()
        chroma_ref = math.hypot(*_median_lab(ref.lab, blob)[1:])
        chroma_out = math.hypot(*_median_lab(out_lab, blob)[1:])
        if overlap < 0.1 and chroma_out > 15 and chroma_ref < 0.5 * chroma_out:
            severity = blob.sum() / (STONE_SHARE * area) * (1 - overlap) / 2
            centre = np.array([np.nonzero(blob)[1].mean(), np.nonzero(blob)[0].mean()])
            findings.append((min(severity, 4.0), f"a stone was added {_where(centre, ref.mask)}"))
    return findings, {"stones_reference": len(ref_blobs), "stones_output": len(out_blobs)}


def _metal(ref: _Piece, out: _Piece, asked: str | None) -> tuple[list, dict]:
    """The metal's colour against the reference's, or against the colour asked for (a metal variant)."""
    if ref.metal.sum() < 50 or out.metal.sum() < 50:
        return [], {}
    was, now = _median_lab(ref.lab, ref.metal), _median_lab(out.lab, out.metal)
    shift = float(np.hypot(*(now[1:] - was[1:])))
    name_was, name_now = _metal_word(was[1:], was[0]), _metal_word(now[1:], now[0])
    measures = {"metal_reference": name_was, "metal_output": name_now, "metal_shift": round(shift, 2)}
    if asked in METAL_WORDS:
        measures["metal_asked"] = asked
        if name_now == asked:
            return [], measures
        return [(2.0, f"the metal is {METAL_WORDS[name_now]}, not the {METAL_WORDS[asked]} asked for")], measures
    if name_was == name_now:
        return [(shift / (3 * METAL_SHIFT), f"the metal colour changed (its {METAL_WORDS[name_was]} tone)")], measures
    words = f"from {METAL_WORDS[name_was]} to {METAL_WORDS[name_now]}"
    return [(shift / METAL_SHIFT, f"the metal colour changed {words}")], measures


PLACE = re.compile(r"^(?P<what>.+?) (?:near the (?P<near>[a-z ]+)|in the (?P<in>middle))(?P<note> \(.+\))?$")


def _named(findings: list[str]) -> list[str]:
    """The changes for the user, most severe first: one line per kind of change with its places gathered
    ("the outline changed near the top, the left and the bottom right"), the general outline line only when no
    local one says where."""
    kinds: dict[tuple[str, str], list[str]] = {}
    lines: list[str | tuple[str, str]] = []
    for words in findings:
        match = PLACE.match(words)
        if match is None:
            if words not in lines:
                lines.append(words)
            continue
        key = (match["what"], match["note"] or "")
        if key not in kinds:
            kinds[key] = []
            lines.append(key)
        place = f"the {match['near'] or match['in']}"
        if place not in kinds[key]:
            kinds[key].append(place)
    named = []
    for line in lines:
        if isinstance(line, str):
            named.append(line)
            continue
        places = kinds[line][:3] + (["elsewhere"] if len(kinds[line]) > 3 else [])
        where = places[0] if len(places) == 1 else f"{', '.join(places[:-1])} and {places[-1]}"
        named.append(f"{line[0]} near {where}{line[1]}".replace("near the middle", "in the middle"))
    if len(named) > 1 and "the outline of the piece changed" in named:
        named.remove("the outline of the piece changed")
    return named


# -------------------------------------------------------------------------------------------------------- public


def compare_to_reference(reference: np.ndarray, output: np.ndarray, *, metal: str | None = None) -> PreservationCheck:
    """Compares one output with one reference (uint8 RGB arrays of any size; read at the analyser's size).

    Parameters
    ----------
    reference, output : numpy.ndarray
        uint8 RGB images of shape (H, W, 3).
    metal : str, optional
        The metal colour the output was asked in (a variant: one of ``vocabulary.VARIANT_METALS``); the metal is
        then checked against it rather than against the reference's. None (default): as the reference.

    Returns
    -------
    PreservationCheck
        Its score, the named changes and the measures behind them.
    """
    return _compare(_read(reference), _read(output), metal)


def _compare(ref: _Piece, out: _Piece, metal: str | None) -> PreservationCheck:
    if ref.mask.sum() < 100 or out.mask.sum() < 100:
        return PreservationCheck(0.0, ["the piece could not be found in the image"], {"piece_found": False})
    matrix, measures = _align(ref, out)
    shape = ref.mask.shape
    size = (shape[1], shape[0])
    warped_mask = _warp_mask(out.mask, matrix, shape)
    warped_lab = cv2.warpAffine(out.lab, matrix, size, flags=cv2.INTER_LINEAR)
    warped_stones = _warp_mask(out.stones, matrix, shape)
    valid = _warp_mask(np.ones(out.mask.shape, bool), matrix, shape)
    # A silhouette that broke into more parts and holes than the reference's is a failed cut-out (white metal on a
    # grey backdrop, say), not a new design: the outline is then not judged.
    steady = min(ref.steady, out.steady)
    reliable = _fragments(warped_mask) <= _fragments(ref.mask) + 1 and steady >= STEADY_CUT
    measures.update(outline_judged=reliable, cutout_steadiness=round(steady, 3))
    findings = _outline(ref, warped_mask) + _part_gone(ref, out, matrix, valid) if reliable else []
    stone_findings, stone_measures = _stones(ref, warped_lab, warped_stones, valid)
    metal_findings, metal_measures = _metal(ref, out, metal)
    findings += stone_findings + metal_findings
    worst = max((severity for severity, _ in findings), default=0.0)
    score = round(float(0.5**worst), 4)
    changes = _named([words for severity, words in sorted(findings, key=lambda row: -row[0]) if severity > 1])
    figures = {**measures, **stone_measures, **metal_measures}
    # Plain Python numbers, so the measures are JSON as they are.
    return PreservationCheck(
        score, changes, {k: v.item() if isinstance(v, np.generic) else v for k, v in figures.items()}
    )


def check_preservation(references: list[bytes], output: bytes, *, metal: str | None = None) -> PreservationCheck:
    """Compares a generated image (encoded bytes) with the piece's reference images; the reference it matches
    best decides. Raises ValueError when a file is not an image.

    Parameters
    ----------
    references : list of bytes
        The piece's reference images, encoded (at least one).
    output : bytes
        The generated image, encoded.
    metal : str, optional
        The metal colour the image was asked in (a variant), or None: as the references.

    Returns
    -------
    PreservationCheck
        The best comparison (highest score) over the references.
    """
    if not references:
        raise ValueError("at least one reference image is needed")
    out = _read(decode_image(output))
    checks = [_compare(_read(decode_image(reference)), out, metal) for reference in references]
    best = max(checks, key=lambda check: check.score)
    return PreservationCheck(best.score, best.changes, {**best.measures, "reference": checks.index(best)})
