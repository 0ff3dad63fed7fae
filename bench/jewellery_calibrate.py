"""Fits the analyser's confidence calibration on the development part of the real photo set. Prints figures and the
table to paste into `intaglio.imaging.jewellery.analysis.CALIBRATION`; never fails on accuracy.

    .venv/bin/python bench/jewellery_real_set.py /tmp/jewellery-real
    .venv/bin/python bench/jewellery_calibrate.py /tmp/jewellery-real [--c 1.0]

For each attribute (type, metal, stones, shot) the rules' answer on each dev photo gives one sample: the raw
confidence, which answer it was (one-hot) and their products (a slope per answer), against whether it is right
(bench/jewellery_eval.py's rule: a label `unknown` is right only as an abstention). A Platt model (L2-regularised
logistic regression, scikit-learn; C 30 chosen on the dev part) maps them to a probability of being right. An answer
given fewer than `MIN_SUPPORT` times on the dev part has too few samples for a curve of its own: the rare answers
share one. Answers `unknown` are left out: they are always abstentions.

The type is answered by a learned step (bench/jewellery_train.py) whose calibration is fitted with it on
cross-validated answers: its table is kept as it is here (`LEARNED`).

The shot table in `analysis.CALIBRATION` is the fit on the first 89 dev photos: the 43 photos added later carry
shot labels (render or photograph) that could not be told apart reliably by eye, and with them the fit made shot
answers confident that were wrong.

The held-out part is only read to print how the fitted table does there (coverage and accuracy when confident);
nothing is chosen from it.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE] + [str(HERE)]

import argparse  # noqa: E402
import pprint  # noqa: E402

import numpy as np  # noqa: E402

ATTRIBUTES = ("type", "metal", "stones", "shot")
#: Fewest dev answers of one value that get their own curve; rarer values share one (`RARE`).
MIN_SUPPORT = 5
RARE = "(rare)"
#: Attributes answered by a learned step whose calibration bench/jewellery_train.py fits (and this script keeps).
LEARNED = ("type",)


def raw_answers(labels: Path, image_dir: Path) -> list[tuple[dict, dict]]:
    from jewellery_eval import read_labels

    from intaglio.imaging.jewellery import analyse_image, decode_image

    out = []
    for row in read_labels(labels):
        rgb = decode_image((image_dir / row["file"]).read_bytes())
        out.append((row, analyse_image(rgb, calibrated=False)))
    return out


def samples(answers: list[tuple[dict, dict]], attribute: str) -> list[tuple[str, float, bool]]:
    """(answer, raw confidence, right) of every photo whose answer is not `unknown`."""
    from jewellery_eval import prediction

    out = []
    for row, answer in answers:
        value, raw = prediction(answer)[attribute]
        if value == "unknown":
            continue
        label = row[attribute]
        out.append((value, raw, label != "unknown" and value == label))
    return out


def fit(data: list[tuple[str, float, bool]], c: float) -> dict:
    from sklearn.linear_model import LogisticRegression

    counts = {v: sum(1 for w, _, _ in data if w == v) for v in {v for v, _, _ in data}}
    values = sorted(counts)
    if not data or len({r for _, _, r in data}) < 2:
        # all right or all wrong: a constant, cautious table
        right = bool(data and data[0][2])
        zeros = {v: 0.0 for v in values}
        return {"bias": 0.0 if right else -4.0, "slope": 0.0, "offset": zeros, "slope_offset": dict(zeros)}
    # an answer seen fewer than MIN_SUPPORT times has no curve of its own: the rare ones share one
    column = {v: (v if counts[v] >= MIN_SUPPORT else RARE) for v in values}
    groups = sorted(set(column.values()))
    x = np.array(
        [
            [raw, *[float(column[v] == g) for g in groups], *[raw * (column[v] == g) for g in groups]]
            for v, raw, _ in data
        ]
    )
    y = np.array([r for _, _, r in data], int)
    model = LogisticRegression(C=c, max_iter=2000).fit(x, y)
    coef = model.coef_[0]
    k = len(groups)
    offset = dict(zip(groups, coef[1 : 1 + k], strict=True))
    slope_offset = dict(zip(groups, coef[1 + k :], strict=True))
    return {
        "bias": round(float(model.intercept_[0]), 3),
        "slope": round(float(coef[0]), 3),
        "offset": {v: round(float(offset[column[v]]), 3) for v in values},
        "slope_offset": {v: round(float(slope_offset[column[v]]), 3) for v in values},
    }


def check(answers, table: dict) -> list[str]:
    """Lines of coverage and accuracy when confident, per attribute, with `table` as the calibration."""
    from jewellery_eval import correct, prediction

    from intaglio.imaging.jewellery import analysis

    saved = analysis.CALIBRATION
    analysis.CALIBRATION = table
    try:
        lines = []
        for attr in ATTRIBUTES:
            n = conf_n = conf_right = 0
            for row, raw in answers:
                value, c = prediction(analysis.calibrate(raw))[attr]
                n += 1
                if value != "unknown" and c >= analysis.CONFIDENT:
                    conf_n += 1
                    conf_right += correct(row[attr], value, c)
            acc = f"{100 * conf_right / conf_n:.0f}%" if conf_n else "–"
            lines.append(f"  {attr:7s} answered {100 * conf_n / n:3.0f}% ({conf_n}/{n}), right when confident {acc}")
        return lines
    finally:
        analysis.CALIBRATION = saved


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("real_dir", type=Path, help="the folder bench/jewellery_real_set.py wrote (dev.csv, heldout.csv)")
    ap.add_argument("--c", type=float, default=30.0, help="inverse L2 strength of the logistic fit")
    args = ap.parse_args(argv)
    dev = raw_answers(args.real_dir / "dev.csv", args.real_dir)
    from intaglio.imaging.jewellery import analysis

    # the learned type step's calibration is fitted with it, on cross-validated answers (bench/jewellery_train.py):
    # its answers on dev photos it was trained on would make it look surer than it is
    table = {
        attr: analysis.CALIBRATION[attr] if attr in LEARNED else fit(samples(dev, attr), args.c) for attr in ATTRIBUTES
    }
    print("CALIBRATION = ", end="")
    pprint.pprint(table, sort_dicts=False, width=116)
    print("\ndev (fitted on):")
    print("\n".join(check(dev, table)))
    held = args.real_dir / "heldout.csv"
    if held.is_file():
        print("held-out (never fitted on):")
        print("\n".join(check(raw_answers(held, args.real_dir), table)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
