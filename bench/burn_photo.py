"""Bench for reading phone photos of finished burns (intaglio.imaging.calibration.read_burn_photo).

Each case prepares an artwork with the engine, burns it with a truth written here (strokes wider than the engine
assumed by a known amount, a darkness of its own, the surface's own grain and tint), photographs it with a pinhole
camera (any rotation, tilt up to 30°, barrel distortion, a lighting ramp and vignetting, white-balance gains, blur,
shot noise, JPEG 70–90, 8–24 MP, the piece on a table) and reads it back. Prints the registration error against the
true mapping, the mark-gain error, the error of each tone band's ΔL* against the truth's, the refusals, and seconds
on one core. Never fails on time.

    .venv/bin/python bench/burn_photo.py --n 20 --seed 1
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
# bench/queue.py would shadow the standard library's `queue` while this directory leads sys.path, so it goes last.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE] + [str(HERE)]

from engrave_common import sample_photos  # noqa: E402

from intaglio.imaging.artwork import prepare_artwork  # noqa: E402
from intaglio.imaging.calibration import BurnPhotoRefused, read_burn_photo  # noqa: E402

SUPER = 5  # truth canvas subpixels per artwork pixel (odd: the scan line runs through a subpixel centre)
SAMPLES = 2  # truth samples per artwork pixel
LUMA = np.array([0.2126, 0.7152, 0.0722])
SETUPS = [  # material, machine, mode
    ("birch-plywood", "diode-10w", "floyd-steinberg"),
    ("maple", "co2-40w", "jarvis"),
    ("walnut", "diode-20w", "atkinson"),
    ("mdf", "co2-40w", "stucki"),
    ("leather", "diode-10w", "sierra2"),
    ("slate", "diode-10w", "floyd-steinberg"),
]


def linear(rgb) -> np.ndarray:
    v = np.asarray(rgb, np.float64) / 255
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def lstar(y: np.ndarray) -> np.ndarray:
    y = np.maximum(y, 0)
    return np.where(y > (6 / 29) ** 3, 116 * np.cbrt(y) - 16, y * 903.3)


def burn_truth(burn: np.ndarray, px_mm: float, diameter_mm: float, darkness: float, bare, rng) -> np.ndarray:
    """Linear RGB reflectance, `SAMPLES` per artwork pixel: every fired pixel's stretch of its scan line widened by
    a disc (a Euclidean distance transform on a supersampled canvas; a run of m pixels is m·SUPER + 1 subpixel
    centres, so the marks sit half a subpixel right of their pixels), on a surface with its own grain."""
    h, w = burn.shape
    fired = np.repeat(burn, SUPER, axis=1).astype(np.uint8)
    fired[:, 1:] |= fired[:, :-1]
    canvas = np.ones((h * SUPER, w * SUPER), np.uint8)
    canvas[SUPER // 2 :: SUPER, :] = 1 - fired
    dist = cv2.distanceTransform(canvas, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    del canvas
    cover = np.clip(diameter_mm / px_mm * SUPER / 2 - dist + 0.5, 0.0, 1.0)
    del dist
    cover = cv2.resize(cover, (w * SAMPLES, h * SAMPLES), interpolation=cv2.INTER_AREA)
    grain = cv2.GaussianBlur(rng.standard_normal(cover.shape).astype(np.float32), (0, 0), 2.0 / px_mm * SAMPLES)
    grain = 1 + 0.04 * grain / (grain.std() + 1e-6)
    reflect = np.asarray(bare, np.float32) * grain[..., None] * (1 - darkness * cover[..., None])
    return np.clip(reflect, 0, 1).astype(np.float32)


def camera(size_mm: tuple[float, float], size: tuple[int, int], tilt_deg: float, rng, fill: float) -> np.ndarray:
    """Homography mm on the piece → undistorted photo px of a pinhole camera looking at it."""
    w, h = size
    f = 0.8 * w
    rot = rng.uniform(0, 2 * np.pi)
    axis_angle = rng.uniform(0, 2 * np.pi)
    rz = np.array([[np.cos(rot), -np.sin(rot), 0], [np.sin(rot), np.cos(rot), 0], [0, 0, 1]])
    rt, _ = cv2.Rodrigues(np.array([np.cos(axis_angle), np.sin(axis_angle), 0.0]) * np.radians(tilt_deg))
    r = rt @ rz
    z = f * max(size_mm) / (fill * min(w, h))
    shift = rng.uniform(-0.04, 0.04, 2) * np.array([w, h])
    k = np.array([[f, 0, w / 2 + shift[0]], [0, f, h / 2 + shift[1]], [0, 0, 1]])
    centre = np.array([size_mm[0] / 2, size_mm[1] / 2, 0.0])
    return k @ np.column_stack([r[:, 0], r[:, 1], -r @ centre + np.array([0, 0, z])])


def radial(points: np.ndarray, k1: float, size, inverse: bool = False) -> np.ndarray:
    w, h = size
    c = np.array([(w - 1) / 2, (h - 1) / 2])
    norm = np.hypot(w, h) / 2
    q = (points - c) / norm
    if not inverse:
        return c + q * (1 + k1 * (q * q).sum(-1, keepdims=True)) * norm
    u = q.copy()
    for _ in range(10):
        u = q / (1 + k1 * (u * u).sum(-1, keepdims=True))
    return c + u * norm


def photograph(reflect, px_mm, rng, *, mp, tilt, blur_px, k1, light_span, quality, exposure=0.85):
    """JPEG bytes of the piece on a table, and the true artwork-pixel → photo-pixel function."""
    w = int(round(np.sqrt(mp * 1e6 * 4 / 3)))
    h = int(round(w * 3 / 4))
    rh, rw = reflect.shape[:2]
    size_mm = (rw / SAMPLES * px_mm, rh / SAMPLES * px_mm)
    hom = camera(size_mm, (w, h), tilt, rng, rng.uniform(0.55, 0.85))
    inv = np.linalg.inv(hom)
    table = (linear([70, 58, 48]) * rng.uniform(0.6, 1.4)).astype(np.float32)
    img = np.empty((h, w, 3), np.float32)
    xs = np.arange(w, dtype=np.float64)
    for y0 in range(0, h, 256):  # in bands: a 24 MP map at once would take gigabytes
        ys = np.arange(y0, min(y0 + 256, h), dtype=np.float64)
        gx, gy = np.meshgrid(xs, ys)
        und = radial(np.stack([gx, gy], -1).reshape(-1, 2), k1, (w, h), inverse=True)
        mm = cv2.perspectiveTransform(und.reshape(-1, 1, 2), inv).reshape(len(ys), w, 2)
        mx = (mm[..., 0] / px_mm * SAMPLES - 0.5).astype(np.float32)
        my = (mm[..., 1] / px_mm * SAMPLES - 0.5).astype(np.float32)
        img[y0 : y0 + len(ys)] = cv2.remap(
            reflect, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=table.tolist()
        )
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    a = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(a) * (gx / w - 0.5) + np.sin(a) * (gy / h - 0.5)) * 1.2
    light = ramp - ((gx / w - 0.5) ** 2 + (gy / h - 0.5) ** 2) * 0.6
    del gx, gy, ramp
    light = 1 + light_span * (light - light.max()) / max(float(light.max() - light.min()), 1e-6)
    img *= light[..., None] * rng.uniform(0.85, 1.15, 3).astype(np.float32) * exposure
    del light
    if blur_px > 0:
        img = cv2.GaussianBlur(img, (0, 0), blur_px)
    img += np.sqrt(np.clip(img, 0, None) * 0.0008 + 0.00002) * rng.standard_normal(img.shape).astype(np.float32)
    np.clip(img, 0, 1, out=img)
    srgb = np.where(img <= 0.0031308, img * 12.92, 1.055 * np.power(img, 1 / 2.4) - 0.055)
    del img
    u8 = np.clip(srgb * 255 + 0.5, 0, 255).astype(np.uint8)
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(u8, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok

    def truth_map(art_px: np.ndarray) -> np.ndarray:
        mm_pts = (art_px + [0.5 / SUPER, 0.0] + 0.5) * px_mm
        p = cv2.perspectiveTransform(mm_pts.reshape(-1, 1, 2).astype(np.float64), hom).reshape(-1, 2)
        return radial(p, k1, (w, h))

    return jpeg.tobytes(), truth_map


def registration_error(report, truth_map, shape) -> tuple[float, float]:
    """RMS and largest error (artwork pixels) of the read mapping against the truth, over the piece."""
    h, w = shape
    ys, xs = np.mgrid[0:h:20, 0:w:20].astype(np.float64)
    pts = np.stack([xs.ravel(), ys.ravel()], -1)
    est, true = report.mapping.to_photo(pts), truth_map(pts)
    step = truth_map(pts + [1.0, 0]) - true
    err = np.hypot(*(est - true).T) / np.hypot(*step.T)
    return float(np.sqrt((err**2).mean())), float(err.max())


def true_tone_errors(reflect, bare_truth, sim, white_sim, px_mm) -> list[float]:
    """Mean ΔL* (truth − simulated) in the simulation's dark, middle and light third, after a 0.25 mm low-pass,
    with the truth's bare surface mapped onto the simulation's."""
    h, w = sim.shape[:2]
    truth_y = cv2.resize(reflect, (w, h), interpolation=cv2.INTER_AREA) @ LUMA.astype(np.float32)
    truth_y = truth_y / float(bare_truth @ LUMA) * float(white_sim @ LUMA)
    sim_y = linear(sim) @ LUMA
    sigma = 0.25 / px_mm
    lt = lstar(cv2.GaussianBlur(truth_y.astype(np.float32), (0, 0), sigma))
    ls = lstar(cv2.GaussianBlur(sim_y.astype(np.float32), (0, 0), sigma))
    inset = int(np.ceil(1.0 / px_mm))
    lt, ls = lt[inset:-inset, inset:-inset], ls[inset:-inset, inset:-inset]
    lo, hi = np.percentile(ls, [1, 99])
    t = (ls - lo) / max(hi - lo, 1e-6)
    out = []
    for sel in (t < 1 / 3, (t >= 1 / 3) & (t < 2 / 3), t >= 2 / 3):
        out.append(float((lt - ls)[sel].mean()) if sel.mean() >= 0.01 else float("nan"))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mp-max", type=float, default=24.0, help="largest photo in megapixels (8–24 by default)")
    parser.add_argument("--refusals", type=int, default=1, help="foreign, blurred and clipped photos of each kind")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)  # seconds on one core
    rng = np.random.default_rng(args.seed)
    photos = sample_photos()
    names = sorted(photos)
    rows = []
    head = (
        f"{'#':>3} {'photo':10} {'material':14} {'mode':15} {'mm':>4} {'MP':>5} {'tilt':>5} {'gain':>6} "
        f"{'read':>6} {'g err':>6} {'reg rms':>7} {'reg max':>7} {'dL* err s/m/h':>17} {'s':>5} {'cpu':>5}  advice"
    )
    print(head)
    print("-" * len(head))
    for i in range(args.n):
        material, machine, mode = SETUPS[i % len(SETUPS)]
        name = names[int(rng.integers(len(names)))]
        width = float(rng.uniform(60, 110))
        art = prepare_artwork(photos[name], material=material, machine=machine, mode=mode, width_mm=width)
        sim = art.simulate()
        assumed = art.mark_px * art.px_mm
        gain = float(rng.uniform(-0.02, 0.08))
        bare_sim = linear(art.material.unburned_rgb)
        bare = bare_sim * rng.uniform(0.93, 1.07, 3)  # this board's own shade
        full = 1 - float(linear(art.material.burned_rgb) @ LUMA / (bare_sim @ LUMA))
        darkness = full * float(rng.uniform(0.8, 1.0))
        reflect = burn_truth(art.burn, art.px_mm, max(assumed + gain, 0.02), darkness, bare, rng)
        truth_tones = true_tone_errors(reflect, bare, sim, bare_sim, art.px_mm)
        mp = float(rng.uniform(8, max(8.0, args.mp_max)))
        tilt = float(rng.uniform(0, 30))
        jpeg, truth_map = photograph(
            reflect, art.px_mm, rng, mp=mp, tilt=tilt, blur_px=float(rng.uniform(0.5, 2.0)),
            k1=float(rng.uniform(-0.06, 0.0)), light_span=float(rng.uniform(0.0, 0.4)),
            quality=int(rng.integers(70, 91)),
        )  # fmt: skip
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            report = read_burn_photo(
                jpeg, burn=art.burn, simulated=sim, px_mm=art.px_mm, mark_diameter_mm=assumed,
                polarity=art.material.polarity,
            )  # fmt: skip
        except BurnPhotoRefused as refused:
            rows.append({"read": False})
            print(f"{i:>3} {name[:10]:10} {material[:14]:14} {mode[:15]:15} {width:4.0f} {mp:5.1f} {tilt:5.1f} "
                  f"{gain:+6.3f}  REFUSED {refused.code}: {refused.message}")  # fmt: skip
            continue
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        reg_rms, reg_max = registration_error(report, truth_map, art.burn.shape)
        tone_err = [r - t for r, t in zip(report.tone_error.values(), truth_tones, strict=True)]
        rows.append(
            {"read": True, "gain_err": report.mark_gain_mm - gain, "reg_rms": reg_rms, "reg_max": reg_max,
             "tone_err": tone_err, "s": seconds, "cpu": cpu, "mp": mp, "gain": gain, "advice": report.advice}
        )  # fmt: skip
        tones = "/".join("  nan" if not np.isfinite(v) else f"{v:+5.1f}" for v in tone_err)
        print(
            f"{i:>3} {name[:10]:10} {material[:14]:14} {mode[:15]:15} {width:4.0f} {mp:5.1f} {tilt:5.1f} "
            f"{gain:+6.3f} {report.mark_gain_mm:+6.3f} {report.mark_gain_mm - gain:+6.3f} {reg_rms:7.3f} "
            f"{reg_max:7.3f} {tones:>17} {seconds:5.2f} {cpu:5.2f}  {report.advice[0][:60]}"
        )

    # Refusals: another artwork, a blurred photo, a clipped photo — each must be refused with its reason.
    refusal_rows = []
    material, machine, mode = SETUPS[0]
    art = prepare_artwork(photos[names[0]], material=material, machine=machine, mode=mode, width_mm=80)
    other = prepare_artwork(photos[names[1]], material=material, machine=machine, mode=mode, width_mm=80)
    bare = linear(art.material.unburned_rgb)
    for j in range(args.refusals):
        for expected in ("no_match", "blurred", "clipped"):
            burned = other if expected == "no_match" else art
            reflect = burn_truth(burned.burn, burned.px_mm, 0.15, 0.9, bare, rng)
            jpeg, _ = photograph(
                reflect, burned.px_mm, rng, mp=12.0, tilt=float(rng.uniform(0, 30)),
                blur_px=14.0 if expected == "blurred" else 1.0, k1=-0.03, light_span=0.2, quality=80,
                exposure=3.5 if expected == "clipped" else 0.85,
            )  # fmt: skip
            try:
                read_burn_photo(jpeg, burn=art.burn, simulated=art.simulate(), px_mm=art.px_mm, mark_diameter_mm=0.13)
                got, message = "accepted", ""
            except BurnPhotoRefused as refused:
                got, message = refused.code, refused.message
            refusal_rows.append((expected, got))
            print(f"refusal {j} {expected:9} → {got:9} {message}")

    ok = [r for r in rows if r["read"]]
    print()
    print("summary")
    lines = []
    if ok:
        g = np.array([abs(r["gain_err"]) for r in ok])
        rms = np.array([r["reg_rms"] for r in ok])
        mx = np.array([r["reg_max"] for r in ok])
        tone = np.array([r["tone_err"] for r in ok])
        secs = np.array([r["s"] for r in ok])
        cpus = np.array([r["cpu"] for r in ok])
        mps = np.array([r["mp"] for r in ok])
        near12 = (mps >= 10) & (mps <= 14)
        wide = [r for r in ok if r["gain"] > 0.03]
        named = sum(any("wider than assumed" in a for a in r["advice"]) for r in wide)
        lines += [
            ("registration vs truth, RMS", f"median {np.median(rms):.3f}, max {rms.max():.3f} artwork px", "≤ 1"),
            ("registration vs truth, worst point", f"median {np.median(mx):.3f}, max {mx.max():.3f} artwork px", "≤ 1"),
            ("mark gain |error|", f"median {np.median(g):.4f}, max {g.max():.4f} mm, "
             f"{(g <= 0.02).mean():.0%} within 0.02", "≤ 0.02 mm"),
        ]  # fmt: skip
        for k, band in enumerate(("shadows", "mid-tones", "highlights")):
            v = np.abs(tone[:, k])
            v = v[np.isfinite(v)]
            if v.size:
                lines.append((f"ΔL* {band} |error| vs truth", f"median {np.median(v):.2f}, max {v.max():.2f}", "—"))
        lines.append(("wider marks (> 0.03 mm) named", f"{named}/{len(wide)}", "all"))
        if near12.any():
            lines.append(("seconds, 10–14 MP (wall, 1 thread)", f"median {np.median(secs[near12]):.2f}, "
                          f"max {secs[near12].max():.2f}", "≤ 3"))  # fmt: skip
            lines.append(("CPU seconds, 10–14 MP", f"median {np.median(cpus[near12]):.2f}, "
                          f"max {cpus[near12].max():.2f}", "≤ 3"))  # fmt: skip
        lines.append(("seconds, all (wall / CPU)", f"median {np.median(secs):.2f} / {np.median(cpus):.2f}, "
                      f"max {secs.max():.2f} / {cpus.max():.2f}", "—"))  # fmt: skip
    lines.append(("read", f"{len(ok)}/{len(rows)}", "all"))
    right = sum(1 for e, got in refusal_rows if e == got)
    lines.append(("refusals with their reason", f"{right}/{len(refusal_rows)}", "all"))
    for name, value, target in lines:
        print(f"  {name:36} {value:60} target {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
