"""How well jewellery analysis reads a labelled image set. Prints figures; never fails on accuracy.

    .venv/bin/python bench/jewellery_eval.py [--provider local|openrouter]
    .venv/bin/python bench/jewellery_set.py /tmp/jwset --seed 2026
    .venv/bin/python bench/jewellery_eval.py /tmp/jwset/labels.csv /tmp/jwset [--provider local|openrouter]

Without a labels CSV it reads the real photo set (bench/jewellery_real_set.py rebuilds it into --real-dir from the
repository snapshots under --mirror) in its two parts, development (the analyser's calibration is fitted there) and
held-out (never tuned on), and the synthetic set of seed 2026 (bench/jewellery_set.py, written into
--synthetic-dir when missing; the synthetic rules were tuned on seeds 1 and 3), and prints each part's report and
then, per attribute, coverage (the share answered at the confident level) and accuracy when confident side by side.

LABELS.csv has the header `file,type,metal,stones,shot` (bench/jewellery_set.py writes one); `stones` is the dominant
stone colour or `none`. Each image is analysed on its own (one image per call). `--provider local` calls
`intaglio.imaging.jewellery.analyse_references` directly and never touches Django; `--provider openrouter` sets up
Django and calls the registered remote provider (it needs its API key configured, and costs money).

Scoring, per attribute (type, metal, stones, shot):
- the prediction is the answer's `value`; for stones, the first group's colour (the dominant one), or `none` for an
  empty list, with `stones_confidence` as its confidence;
- a label `unknown` (a sketch's metal and stones, which a drawing does not show) expects an abstention: it counts
  as right when the answer is `unknown` or its confidence is below 0.5;
- "abstained" is the share of answers that are `unknown` or below 0.5 confidence; "when confident" is the accuracy
  over the answers at 0.5 or above (and how many there were).
Seconds per image are wall-clock time of the call (decode included), median and 95th percentile.

Exit status: 2 for bad arguments or an unreadable CSV, 0 otherwise (a failed image is counted and reported).
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/queue.py would shadow the standard library's `queue` while this directory leads sys.path (see engrave.py).
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE] + [str(HERE)]

import argparse  # noqa: E402
import csv  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections import Counter, defaultdict  # noqa: E402

ATTRIBUTES = ("type", "metal", "stones", "shot")
CONFIDENT = 0.5
HEADER = ("file", "type", "metal", "stones", "shot")


def sniff_mime(data: bytes) -> str:
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


def read_labels(path: Path) -> list[dict[str, str]]:
    """Rows of the CSV; raises ValueError with a readable message when it cannot be used."""
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in HEADER if c not in (reader.fieldnames or [])]
            if missing:
                raise ValueError(f"{path}: the header must have {','.join(HEADER)} (missing {','.join(missing)})")
            rows = [{k: (row.get(k) or "").strip() for k in HEADER} for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from exc
    if not rows:
        raise ValueError(f"{path}: no rows")
    return rows


def local_analyser():
    from intaglio.imaging.jewellery import analyse_references

    return lambda data, mime: analyse_references([data])


def openrouter_analyser():
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "intaglio.settings")
    django.setup()
    from intaglio.providers.base import ReferenceImage
    from intaglio.providers.registry import analysis_provider_named

    provider = analysis_provider_named("openrouter")
    return lambda data, mime: provider.analyse([ReferenceImage(data=data, mime=mime)])


def prediction(answer: dict) -> dict[str, tuple[str, float]]:
    """(value, confidence) per attribute from one answer."""
    stones = answer.get("stones") or []
    shots = answer.get("shots") or [{"value": "unknown", "confidence": 0.0}]
    return {
        "type": (answer["type"]["value"], float(answer["type"]["confidence"])),
        "metal": (answer["metal"]["value"], float(answer["metal"]["confidence"])),
        "stones": (stones[0]["colour"] if stones else "none", float(answer.get("stones_confidence", 0.0))),
        "shot": (shots[0]["value"], float(shots[0]["confidence"])),
    }


def abstained(value: str, confidence: float) -> bool:
    return value == "unknown" or confidence < CONFIDENT


def correct(label: str, value: str, confidence: float) -> bool:
    if label == "unknown":
        return abstained(value, confidence)
    return value == label


def pct(num: int, den: int) -> str:
    return f"{100 * num / den:.0f}%" if den else "–"


def text_table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=False))  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths]), *[line(r) for r in rows]])


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def confusion(results: list[dict], attribute: str) -> tuple[list[str], list[list[str]]]:
    counts: dict[str, Counter] = defaultdict(Counter)
    for r in results:
        if r["error"]:
            continue
        counts[r["label"][attribute]][r["pred"][attribute][0]] += 1
    predicted = sorted({p for c in counts.values() for p in c})
    headers = ["label \\ answer", *predicted]
    rows = [[label, *[str(counts[label][p] or ".") for p in predicted]] for label in sorted(counts)]
    return headers, rows


def evaluate(rows: list[dict[str, str]], image_dir: Path, analyse) -> list[dict]:
    results = []
    for row in rows:
        path = image_dir / row["file"]
        result = {"file": row["file"], "label": row, "pred": {}, "seconds": None, "error": ""}
        try:
            data = path.read_bytes()
            start = time.perf_counter()
            answer = analyse(data, sniff_mime(data))
            result["seconds"] = time.perf_counter() - start
            result["pred"] = prediction(answer)
        except Exception as exc:  # one failed image is reported, not fatal
            result["error"] = f"{type(exc).__name__}: {exc}"
        results.append(result)
    return results


def summarise(results: list[dict]) -> dict:
    ok = [r for r in results if not r["error"]]
    shots = sorted({r["label"]["shot"] for r in ok})
    summary = {"n": len(results), "failed": len(results) - len(ok), "shots": shots, "rows": []}
    for attr in ATTRIBUTES:
        right = [correct(r["label"][attr], *r["pred"][attr]) for r in ok]
        abst = [abstained(*r["pred"][attr]) for r in ok]
        confident = [c for c, a in zip(right, abst, strict=False) if not a]
        per_shot = {}
        for shot in shots:
            sel = [c for c, r in zip(right, ok, strict=False) if r["label"]["shot"] == shot]
            per_shot[shot] = (sum(sel), len(sel))
        summary["rows"].append(
            {
                "attribute": attr,
                "right": sum(right),
                "n": len(right),
                "abstained": sum(abst),
                "confident_right": sum(confident),
                "confident_n": len(confident),
                "per_shot": per_shot,
            }
        )
    secs = sorted(r["seconds"] for r in ok if r["seconds"] is not None)
    summary["median_s"] = statistics.median(secs) if secs else float("nan")
    summary["p95_s"] = secs[min(len(secs) - 1, int(round(0.95 * (len(secs) - 1))))] if secs else float("nan")
    return summary


def report(results: list[dict], summary: dict, provider: str) -> str:
    shots = summary["shots"]
    headers = ["attribute", "accuracy", "abstained", "when confident", *[f"{s}" for s in shots]]
    rows = []
    for r in summary["rows"]:
        rows.append(
            [
                r["attribute"],
                f"{pct(r['right'], r['n'])} ({r['right']}/{r['n']})",
                pct(r["abstained"], r["n"]),
                f"{pct(r['confident_right'], r['confident_n'])} of {r['confident_n']}",
                *[pct(*r["per_shot"][s]) for s in shots],
            ]
        )
    counts = Counter(r["label"]["shot"] for r in results if not r["error"])
    shot_line = ", ".join(f"{s} {counts[s]}" for s in shots)
    speed = f"seconds per image: median {summary['median_s']:.3f}, p95 {summary['p95_s']:.3f}"
    out = [
        f"provider: {provider}; images: {summary['n']} ({shot_line}); failed: {summary['failed']}",
        "",
        text_table(headers, rows),
        "",
        speed,
    ]
    for attr in ("type", "metal"):
        h, rr = confusion(results, attr)
        out += ["", f"confusion ({attr}): rows are labels, columns answers", text_table(h, rr)]
    failed = [r for r in results if r["error"]]
    if failed:
        out += ["", "failed:"] + [f"  {r['file']}: {r['error']}" for r in failed[:20]]
    out += ["", "Markdown:", "", markdown_table(headers, rows), "", f"*{speed}; {summary['n']} images ({shot_line})*"]
    return "\n".join(out)


def side_by_side(parts: dict[str, dict]) -> str:
    """Per attribute and part: coverage (answered at the confident level) and accuracy when confident."""
    headers = ["attribute"]
    for name in parts:
        headers += [f"{name}: coverage", f"{name}: right when confident"]
    rows = []
    for i, attr in enumerate(ATTRIBUTES):
        row = [attr]
        for summary in parts.values():
            r = summary["rows"][i]
            row += [
                f"{pct(r['confident_n'], r['n'])} ({r['confident_n']}/{r['n']})",
                f"{pct(r['confident_right'], r['confident_n'])}",
            ]
        rows.append(row)
    return "\n".join([text_table(headers, rows), "", "Markdown:", "", markdown_table(headers, rows)])


def default_parts(real_dir: Path, mirror: Path, synthetic_dir: Path) -> dict[str, tuple[Path, Path]]:
    """name → (labels CSV, image folder): the real set's two parts (when its sources are here) and the synthetic."""
    import jewellery_real_set
    import jewellery_set

    parts = {}
    try:
        jewellery_real_set.build(real_dir, mirror)
        parts["real dev"] = (real_dir / "dev.csv", real_dir)
        parts["real held-out"] = (real_dir / "heldout.csv", real_dir)
    except SystemExit as exc:  # a snapshot is missing: say so, and report the synthetic set alone
        print(f"real set: not built ({exc})", file=sys.stderr)
    if not (synthetic_dir / "labels.csv").is_file():
        jewellery_set.write_set(synthetic_dir, count=120, seed=2026, long_edge=1400)
    parts["synthetic (seed 2026)"] = (synthetic_dir / "labels.csv", synthetic_dir)
    return parts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("labels", type=Path, nargs="?", help="labels CSV (file,type,metal,stones,shot)")
    ap.add_argument("image_dir", type=Path, nargs="?", help="folder the CSV's file names are relative to")
    ap.add_argument("--provider", choices=("local", "openrouter"), default="local")
    ap.add_argument("--real-dir", type=Path, default=Path("/tmp/jewellery-real"))
    ap.add_argument("--mirror", type=Path, default=Path("/work/.mirror"), help="repository snapshots")
    ap.add_argument("--synthetic-dir", type=Path, default=Path("/tmp/jewellery-synthetic-2026"))
    args = ap.parse_args(argv)
    if args.labels is None:
        analyse = local_analyser() if args.provider == "local" else openrouter_analyser()
        summaries = {}
        for name, (labels, image_dir) in default_parts(args.real_dir, args.mirror, args.synthetic_dir).items():
            results = evaluate(read_labels(labels), image_dir, analyse)
            summaries[name] = summarise(results)
            print(f"== {name}\n")
            print(report(results, summaries[name], args.provider))
            print()
        print("== coverage and accuracy when confident\n")
        print(side_by_side(summaries))
        return 0
    if args.image_dir is None or not args.image_dir.is_dir():
        ap.error(f"{args.image_dir} is not a folder")
    try:
        rows = read_labels(args.labels)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    analyse = local_analyser() if args.provider == "local" else openrouter_analyser()
    results = evaluate(rows, args.image_dir, analyse)
    print(report(results, summarise(results), args.provider))
    return 0


if __name__ == "__main__":
    sys.exit(main())
