"""Rebuilds the real jewellery photo set (development and held-out parts) from public repository snapshots.

    .venv/bin/python bench/jewellery_real_set.py OUT_DIR [--mirror /work/.mirror]

The photos are not kept in git. `bench/jewellery_real_labels.csv` lists every photo: its labels
(`file,type,metal,stones,shot`, assigned by looking at each photo; `unknown` where it cannot be told), its part
(`split`: `dev`, used to tune the analyser, or `heldout`, never tuned on; the first 160 photos were split by a hash
of the file name, the 43 added later, r160 to r202, all went to dev so the held-out part stays as it was), its source
(`repo`, `commit`, `path`) and the licence its repository states (`licence`).
This script reads each photo out of a local snapshot of its repository (`git show COMMIT:PATH`) and writes
OUT_DIR/<file>, OUT_DIR/labels.csv (every photo), OUT_DIR/dev.csv and OUT_DIR/heldout.csv, all with the header of
bench/jewellery_set.py's labels, so bench/jewellery_eval.py reads them as they are.

Snapshots are looked for under MIRROR/<owner>+<name>/ (a bare repository, or one with a .git directory), the layout
the project's repository fetcher leaves; a missing one is named, with what to fetch.

Sources (`SOURCES`): two public repositories of ordinary catalogue photos (white-backdrop packshots, catalogue CAD
renders, a few styled shots). Neither states a licence: the photos are used here only to measure the analyser,
locally, and are never copied into this repository or shipped. A licensed replacement was looked for among the
public repositories the fetcher reaches (jewellery classification and dataset repositories, jewellery shop demos,
copies of Amazon Berkeley Objects, museum open-access sets): those with a licence hold no jewellery photos (icons,
a few non-jewellery ABO samples) or only link to images hosted elsewhere, and the jewellery photo folders found
(Turkish shop photos, Kaggle copies) state none either.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
LABELS = HERE / "jewellery_real_labels.csv"
HEADER = ("file", "type", "metal", "stones", "shot")
SPLITS = ("dev", "heldout")

#: repo → (what it is, licence as stated by the repository).
SOURCES = {
    "princesegzy01/Jewellery-Classification": (
        "a jewellery classification dataset (test and training folders RINGS, NECKLACE, EARRINGS, BRACELET): shop "
        "photos and catalogue renders collected from the web",
        "none stated",
    ),
    "hippiechaka/jouxbeaustralia": (
        "a jewellery shop's website: its own product photos (top views on white, chain flat-lays, bangle stacks)",
        "none stated",
    ),
}


def read_rows(path: Path = LABELS) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def git_dir(mirror: Path, repo: str) -> Path | None:
    base = mirror / repo.replace("/", "+")
    for candidate in (base / "repo" / ".git", base / "repo", base):
        if (candidate / "HEAD").is_file() or (candidate / "objects").is_dir():
            return candidate
    return None


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, HEADER, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def build(out_dir: Path, mirror: Path, labels: Path = LABELS) -> dict[str, int]:
    """Writes the photos and the CSVs; returns photos written per part. Raises SystemExit naming missing sources."""
    rows = read_rows(labels)
    missing = sorted({r["repo"] for r in rows if git_dir(mirror, r["repo"]) is None})
    if missing:
        raise SystemExit(
            "missing repository snapshots under "
            f"{mirror}: " + ", ".join(missing) + " (fetch github:<owner>/<name> for each, then run again)"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    for r in rows:
        target = out_dir / r["file"]
        if target.is_file():
            continue
        gd = git_dir(mirror, r["repo"])
        data = subprocess.run(
            ["git", "--git-dir", str(gd), "show", f"{r['commit']}:{r['path']}"], capture_output=True, check=True
        ).stdout
        target.write_bytes(data)
    write_csv(out_dir / "labels.csv", rows)
    counts = {}
    for split in SPLITS:
        part = [r for r in rows if r["split"] == split]
        write_csv(out_dir / f"{split}.csv", part)
        counts[split] = len(part)
    return counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--mirror", type=Path, default=Path("/work/.mirror"), help="where repository snapshots are")
    args = ap.parse_args(argv)
    counts = build(args.out_dir, args.mirror)
    print(
        f"wrote {sum(counts.values())} photos to {args.out_dir} ("
        + ", ".join(f"{k} {v}" for k, v in counts.items())
        + ")"
    )
    for repo, (what, licence) in SOURCES.items():
        print(f"  {repo}: {what}; licence: {licence}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
