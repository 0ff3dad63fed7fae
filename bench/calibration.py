"""Bench: photos of burned material test cards with known truth, read back by `read_card`.

    .venv/bin/python bench/calibration.py --n 50 --seed 1

The burn and the photo are simulated here, independently of the engine's dot-gain code: each fired pixel of the
card's burn map leaves its stretch of the scan line widened by a disc of the true mark diameter (the union of those
strokes, sampled at 96 × 12 points in each card pixel); each part's marks are as dark as the material's response to the
energy it was burned at (concave, S-shaped, or charring lighter at high energy). The photo: a pinhole camera at any
rotation and up to 35° of tilt, barrel distortion, a lighting gradient up to 40 %, a white-balance shift, optical
blur, shot and read noise, JPEG quality 70–90, 8–24 MP. Truth is the rendered coverage (what fraction of each
wedge patch the marks cover), the true mark diameter and the true card → photo mapping.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# One core: the timings are CPU seconds of this process, so no library may spread the work over threads.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from intaglio.imaging.calibration import CardRefused, make_card, read_card  # noqa: E402

SY, SX = 96, 12  # sample points per card pixel, across and along the scan lines (the caps of thin marks need both)
CARDS = [("birch-plywood", "diode-10w", "floyd-steinberg"), ("maple", "diode-10w", "floyd-steinberg")]


def responses(kind: str):
    """Darkness of a mark burned at relative energy e (1 = the card's suggested settings)."""
    if kind == "concave":
        return lambda e: 0.85 * (1 - np.exp(-1.6 * e))
    if kind == "s-shaped":
        return lambda e: 0.88 / (1 + np.exp(-4.5 * (e - 0.7)))
    # charring: darkens, then turns lighter (grey, glossy char) beyond 1.6× the suggestion
    return lambda e: np.where(e < 1.6, 0.86 * (1 - np.exp(-1.8 * e)), 0.86 * (1 - np.exp(-2.88)) - 0.3 * (e - 1.6))


def burn_coverage(burn: np.ndarray, diameter_px: float, dark: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fraction of each card pixel the strokes cover, and the mean darkness of each half-pixel (2× grid).

    Sampled at the centres of an SY × SX grid inside each pixel (fine across the scan lines, where thin strokes
    would otherwise quantise). For one sample position, the neighbours whose stroke reaches it form a fixed kernel,
    so that position's coverage is the burn map dilated by that kernel.
    """
    h, w = burn.shape
    reach = int(np.ceil(diameter_px / 2)) + 1
    src = burn.astype(np.uint8)
    coverage = np.zeros((h, w), np.float32)
    half = np.zeros((2 * h, 2 * w), np.float32)
    offs = np.arange(-reach, reach + 1)
    for a in range(SY):
        for b in range(SX):
            # Each stratum's point is shifted by an irrational step of the other index (a rotated lattice): every
            # dot of the card sits at the same sub-pixel phase, so a regular grid's error in a thin mark's width
            # and rounded ends (up to 0.5 % of its area) would repeat in every dot instead of averaging out.
            fy = (a + (b * 0.7548776662 + 0.5) % 1.0) / SY - 0.5
            fx = (b + (a * 0.5698402910 + 0.5) % 1.0) / SX - 0.5
            # a fired neighbour at (dy, dx) burns the segment y = dy, dx − ½ … dx + ½
            gx = np.maximum(np.abs(fx - offs[None, :]) - 0.5, 0.0)
            gy = np.abs(fy - offs[:, None])
            kernel = (np.hypot(gx, gy) <= diameter_px / 2).astype(np.uint8)
            if not kernel.any():  # (cv2.dilate treats an empty kernel as the identity)
                continue
            hit = cv2.dilate(src, kernel, anchor=(reach, reach), borderType=cv2.BORDER_CONSTANT, borderValue=0)
            coverage += hit
            half[int(a >= SY // 2) :: 2, int(b >= SX // 2) :: 2] += hit * dark
    return coverage / (SY * SX), half / (SY * SX / 4)


def render_card(card, diameter_mm: float, kind: str, rng, surface=None) -> tuple[np.ndarray, dict]:
    """Linear RGB reflectance of the burned card at 2 samples per card pixel, and the truth.

    `surface(burn, diameter_px, dark, px_mm)` → (coverage, darkness) replaces `burn_coverage` for a surface whose
    darkness does not follow the marked area (bench/calibration_loop.py); by default darkness is marked area × the
    marks' darkness.
    """
    layout = card.layout
    px = layout["line_interval_mm"]
    burn = card.burn
    response = responses(kind)
    e_suggested = layout["suggested"]["power_pct"] / layout["suggested"]["speed_mm_min"]
    dark = np.full(burn.shape, float(response(1.0)), dtype=np.float32)
    grid_truth = []
    for g in layout["grid"]:
        x, y, w, h = (round(v / px) for v in g["rect_mm"])
        e = g["power_pct"] / g["speed_mm_min"] / e_suggested
        d = float(response(e))
        dark[y : y + h, x : x + w] = d
        grid_truth.append(d)
    if surface is None:
        coverage, darkness = burn_coverage(burn, diameter_mm / px, dark)
    else:
        coverage, darkness = surface(burn, diameter_mm / px, dark, px)
    wedge_truth = []
    for wdg in layout["wedge"]:
        x, y, w, h = (v / px for v in wdg["rect_mm"])
        m = round(0.8 / px)
        wedge_truth.append(float(coverage[round(y) + m : round(y + h) - m, round(x) + m : round(x + w) - m].mean()))
    # Wood: a warm colour with faint grain along x; marks a darker, slightly redder brown.
    bare = np.array([0.62, 0.45, 0.28]) * rng.uniform(0.9, 1.1, 3)
    tint = np.array([0.97, 1.0, 1.03])
    hh, ww = darkness.shape
    # grain: bands across the card about 0.3 mm wide, 1.5 % deep
    bands = cv2.GaussianBlur(rng.standard_normal((hh, 1)).astype(np.float32), (0, 0), 3)
    grain = 1 + 0.015 * np.repeat(bands / bands.std(), ww, axis=1)
    reflect = np.empty((hh, ww, 3), np.float32)
    for c in range(3):
        reflect[..., c] = bare[c] * grain * (1 - np.clip(darkness * tint[c], 0, 1))
    truth = {"wedge": wedge_truth, "grid": grid_truth, "nominal": [w["nominal"] for w in layout["wedge"]]}
    return reflect, truth


def camera(card_mm: float, size: tuple[int, int], tilt_deg: float, rng, fill: float):
    """Homography card mm → undistorted photo px of a pinhole camera looking at the card."""
    w, h = size
    f = 0.8 * w
    rot = rng.uniform(0, 2 * np.pi)
    axis_angle = rng.uniform(0, 2 * np.pi)
    t = np.radians(tilt_deg)
    rz = np.array([[np.cos(rot), -np.sin(rot), 0], [np.sin(rot), np.cos(rot), 0], [0, 0, 1]])
    axis = np.array([np.cos(axis_angle), np.sin(axis_angle), 0.0])
    rt, _ = cv2.Rodrigues(axis * t)
    r = rt @ rz
    # Distance so the card spans `fill` of the shorter side (ignoring foreshortening), card centred with jitter.
    z = f * card_mm / (fill * min(w, h))
    shift = rng.uniform(-0.05, 0.05, 2) * np.array([w, h])
    k = np.array([[f, 0, w / 2 + shift[0]], [0, f, h / 2 + shift[1]], [0, 0, 1]])
    centre = np.array([card_mm / 2, card_mm / 2, 0.0])
    # X_cam = R (X - centre) + (0, 0, z)
    m = np.column_stack([r[:, 0], r[:, 1], -r @ centre + np.array([0, 0, z])])
    return k @ m


def distort(points: np.ndarray, k1: float, size) -> np.ndarray:
    w, h = size
    c = np.array([(w - 1) / 2, (h - 1) / 2])
    norm = np.hypot(w, h) / 2
    q = (points - c) / norm
    return c + q * (1 + k1 * (q * q).sum(-1, keepdims=True)) * norm


def undistort(points: np.ndarray, k1: float, size) -> np.ndarray:
    w, h = size
    c = np.array([(w - 1) / 2, (h - 1) / 2])
    norm = np.hypot(w, h) / 2
    q = (points - c) / norm
    u = q.copy()
    for _ in range(10):
        u = q / (1 + k1 * (u * u).sum(-1, keepdims=True))
    return c + u * norm


def photograph(reflect, card_mm, rng, *, mp, tilt, blur_px, exposure, k1, light_span, quality):
    """JPEG bytes of the card on a dark table, and the true card-pixel → photo-pixel function."""
    w = int(round(np.sqrt(mp * 1e6 * 4 / 3)))
    h = int(round(w * 3 / 4))
    hom = camera(card_mm, (w, h), tilt, rng, rng.uniform(0.6, 0.8))
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    und = undistort(np.stack([xs, ys], -1).reshape(-1, 2), k1, (w, h))
    mm = cv2.perspectiveTransform(und.reshape(-1, 1, 2), np.linalg.inv(hom)).reshape(h, w, 2)
    samples_per_mm = reflect.shape[1] / card_mm
    mx = (mm[..., 0] * samples_per_mm - 0.5).astype(np.float32)
    my = (mm[..., 1] * samples_per_mm - 0.5).astype(np.float32)
    del ys, xs, und, mm
    table = np.array([0.05, 0.05, 0.06], np.float32)
    img = cv2.remap(reflect, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=table.tolist())
    del mx, my
    # Lighting: a ramp in a random direction plus vignetting, spanning `light_span`.
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    a = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(a) * (gx / w - 0.5) + np.sin(a) * (gy / h - 0.5)) * 1.2
    vign = -((gx / w - 0.5) ** 2 + (gy / h - 0.5) ** 2) * 0.6
    light = ramp + vign
    light = 1 + light_span * (light - light.max()) / max(float(light.max() - light.min()), 1e-6)
    gains = rng.uniform(0.85, 1.15, 3).astype(np.float32)
    img *= light[..., None] * gains * exposure
    del gy, gx, light, ramp, vign
    if blur_px > 0:
        img = cv2.GaussianBlur(img, (0, 0), blur_px)
    noise = np.sqrt(np.clip(img, 0, None) * 0.0008 + 0.00002).astype(np.float32)
    img += noise * rng.standard_normal(img.shape).astype(np.float32)
    img = np.clip(img, 0, 1)
    srgb = np.where(img <= 0.0031308, img * 12.92, 1.055 * np.power(img, 1 / 2.4) - 0.055)
    u8 = np.clip(srgb * 255 + 0.5, 0, 255).astype(np.uint8)
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(u8, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    px_per_mm = reflect.shape[1] / 2 / card_mm  # card pixels per mm

    def truth_map(card_px: np.ndarray) -> np.ndarray:
        mm_pts = (card_px + 0.5) / px_per_mm
        p = cv2.perspectiveTransform(mm_pts.reshape(-1, 1, 2).astype(np.float64), hom).reshape(-1, 2)
        return distort(p, k1, (w, h))

    return jpeg.tobytes(), truth_map, (w, h)


def registration_error(reading, truth_map, card_shape) -> float:
    """True RMS error (card pixels) of the reader's mapping over the card."""
    ch, cw = card_shape
    ys, xs = np.mgrid[0:ch:20, 0:cw:20].astype(np.float64)
    pts = np.stack([xs.ravel(), ys.ravel()], -1)
    est, true = reading.mapping.to_photo(pts), truth_map(pts)
    step = truth_map(pts + [1.0, 0]) - true  # photo px per card px, locally
    scale = np.hypot(step[:, 0], step[:, 1])
    return float(np.sqrt(((np.hypot(*(est - true).T) / scale) ** 2).mean()))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mp-max", type=float, default=24.0, help="largest photo in megapixels (8–24 by default)")
    parser.add_argument("--refusals", type=int, default=3, help="foreign, blurred and clipped photos of each kind")
    parser.add_argument(
        "--detail", action="store_true", help="per photo: each wedge step's tone error and the marks' darkness read"
    )
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)  # CPU seconds on one core (the machine may be busy with other work: wall time varies)
    rng = np.random.default_rng(args.seed)
    cards = {}
    for spec in CARDS:
        material, machine, mode = spec
        cards[spec] = make_card(material=material, machine=machine, mode=mode, card_id=int(rng.integers(1, 2**31)))
    kinds = ["concave", "s-shaped", "charring"]
    rows = []
    head = (
        f"{'#':>3} {'card':14} {'MP':>5} {'tilt':>5} {'d true':>7} {'d read':>7} {'d err':>7} {'reg rms':>7} "
        f"{'reg true':>8} {'tone err%':>9} {'cell':>5} {'resid':>6} {'s':>5} {'s/12MP':>6}  note"
    )
    print(head)
    print("-" * len(head))
    for i in range(args.n):
        spec = CARDS[i % len(CARDS)]
        card = cards[spec]
        d_true = float(rng.uniform(0.06, 0.25))
        kind = kinds[i % 3]
        reflect, truth = render_card(card, d_true, kind, rng)
        mp = float(rng.uniform(8, max(8.0, args.mp_max)))
        tilt = float(rng.uniform(0, 35))
        jpeg, truth_map, _ = photograph(
            reflect, card.layout["width_mm"], rng, mp=mp, tilt=tilt, blur_px=float(rng.uniform(0.4, 1.5)),
            exposure=float(rng.uniform(1.05, 1.35)), k1=float(rng.uniform(-0.06, 0.0)),
            light_span=float(rng.uniform(0.0, 0.4)), quality=int(rng.integers(70, 91)),
        )  # fmt: skip
        t0, w0 = time.process_time(), time.perf_counter()
        try:
            reading = read_card(jpeg, card)
        except CardRefused as refused:
            rows.append({"detected": False})
            print(f"{i:>3} {spec[0][:14]:14} {mp:5.1f} {tilt:5.1f} {d_true:7.3f}  REFUSED {refused.code}: {refused}")
            continue
        seconds, wall = time.process_time() - t0, time.perf_counter() - w0
        reg_true = registration_error(reading, truth_map, card.burn.shape)
        d_err = reading.mark_diameter_mm - d_true
        tw = np.array(truth["wedge"])
        te = np.array([e for _, e in reading.tone_response])
        tone_err = float(np.max(np.abs(te - tw)) / max(tw.max() - tw.min(), 1e-6) * 100)
        g = np.array(truth["grid"])
        best = (reading.best_cell["power_pct"], reading.best_cell["speed_mm_min"])
        chosen = next(j for j, c in enumerate(card.layout["grid"]) if (c["power_pct"], c["speed_mm_min"]) == best)
        cell_ok = g[chosen] >= g.max() - 0.05
        row = {
            "detected": True, "d_err": d_err, "reg": reading.registration_rms_px, "reg_true": reg_true,
            "tone": tone_err, "cell": cell_ok, "s": seconds, "s12": seconds * 12 / mp, "resid": reading.residual,
            "wall12": wall * 12 / mp,
        }  # fmt: skip
        rows.append(row)
        print(
            f"{i:>3} {spec[0][:14]:14} {mp:5.1f} {tilt:5.1f} {d_true:7.3f} {reading.mark_diameter_mm:7.3f} "
            f"{d_err:+7.3f} {reading.registration_rms_px:7.3f} {reg_true:8.3f} {tone_err:9.2f} "
            f"{'ok' if cell_ok else 'MISS':>5} {reading.residual:6.3f} {seconds:5.2f} {seconds * 12 / mp:6.2f}  {kind}"
        )
        if args.detail:
            # Signed error of each step (% of the range) and the marks' darkness read over the true one: a darkness
            # read off by x % scales every step's coverage by that much.
            steps = " ".join(f"{v:+.1f}" for v in (te - tw) / max(tw.max() - tw.min(), 1e-6) * 100)
            ratio = reading.mark_darkness / float(responses(kind)(1.0))
            print(f"      steps % [{steps}]  darkness read/true {ratio:.3f}  blur {reading.blur_mm:.3f} mm")

    # Refusals: a foreign card, a blurred photo, a clipped photo — each must be refused with its reason.
    refusal_rows = []
    base_spec = CARDS[0]
    card = cards[base_spec]
    foreign = make_card(
        material=base_spec[0], machine=base_spec[1], mode=base_spec[2], card_id=int(rng.integers(1, 2**31))
    )
    for j in range(args.refusals):
        for expected in ("foreign_card", "blurred", "clipped"):
            burned = foreign if expected == "foreign_card" else card
            reflect, _ = render_card(burned, float(rng.uniform(0.06, 0.25)), "concave", rng)
            mp = 12.0
            w = np.sqrt(mp * 1e6 * 4 / 3)
            photo_px_per_mm = 0.7 * 0.75 * w / card.layout["width_mm"]
            blur = 0.6 * photo_px_per_mm if expected == "blurred" else 0.8
            jpeg, _, _ = photograph(
                reflect, card.layout["width_mm"], rng, mp=mp, tilt=float(rng.uniform(0, 30)), blur_px=blur,
                exposure=3.0 if expected == "clipped" else 1.2, k1=-0.03, light_span=0.2, quality=80,
            )  # fmt: skip
            try:
                read_card(jpeg, card)
                got, message = "accepted", ""
            except CardRefused as refused:
                got, message = refused.code, refused.message
            refusal_rows.append((expected, got))
            print(f"refusal {j} {expected:13} → {got:13} {message}")

    ok = [r for r in rows if r["detected"]]
    print()
    print("summary")
    if ok:
        d_err = np.array([abs(r["d_err"]) for r in ok])
        reg = np.array([r["reg"] for r in ok])
        reg_true = np.array([r["reg_true"] for r in ok])
        tone = np.array([r["tone"] for r in ok])
        s12 = np.array([r["s12"] for r in ok])
        lines = [
            ("registration RMS (corners)", f"median {np.median(reg):.3f}, max {reg.max():.3f} card px", "≤ 0.5"),
            ("registration RMS (truth)", f"median {np.median(reg_true):.3f}, max {reg_true.max():.3f} card px",
             "≤ 0.5"),
            ("mark diameter |error|", f"median {np.median(d_err):.4f}, max {d_err.max():.4f} mm, "
             f"{(d_err <= 0.01).mean():.0%} within 0.01", "≤ 0.01 mm"),
            ("tone response max error", f"median {np.median(tone):.2f} %, max {tone.max():.2f} %, "
             f"{(tone <= 2).mean():.0%} within 2 %", "≤ 2 % of range"),
            ("best cell right", f"{np.mean([r['cell'] for r in ok]):.0%}", "—"),
            ("CPU seconds per 12 MP (1 core)", f"median {np.median(s12):.2f}, max {s12.max():.2f} "
             f"(wall median {np.median([r['wall12'] for r in ok]):.2f})", "≤ 2 s"),
        ]  # fmt: skip
    else:
        lines = []
    lines.append(("detection rate", f"{len(ok)}/{len(rows)} = {len(ok) / max(len(rows), 1):.0%}", "≥ 98 %"))
    right = sum(1 for e, g in refusal_rows if e == g)
    lines.append(("refusals with their reason", f"{right}/{len(refusal_rows)}", "all"))
    for name, value, target in lines:
        print(f"  {name:30} {value:60} target {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
