"""bench/jewellery_set.py and bench/jewellery_eval.py as a user runs them: subprocesses on a tiny set."""

from __future__ import annotations

import csv
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SET = REPO / "bench" / "jewellery_set.py"
EVAL = REPO / "bench" / "jewellery_eval.py"


def run(*args, timeout=120):
    return subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=REPO)


@pytest.fixture(scope="module")
def tiny_set(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("jwset")
    done = run(SET, out, "--count", 12, "--seed", 5, "--long-edge", 400)
    assert done.returncode == 0, done.stderr
    return out


def test_the_set_is_labelled_and_deterministic(tiny_set, tmp_path):
    rows = list(csv.DictReader((tiny_set / "labels.csv").open()))
    assert len(rows) == 12
    assert list(rows[0]) == ["file", "type", "metal", "stones", "shot"]
    assert all((tiny_set / r["file"]).is_file() for r in rows)
    assert all(r["metal"] == "unknown" and r["stones"] == "unknown" for r in rows if r["shot"] == "sketch")
    again = run(SET, tmp_path, "--count", 3, "--seed", 5, "--long-edge", 400)
    assert again.returncode == 0
    for r in rows[:3]:
        assert (tmp_path / r["file"]).read_bytes() == (tiny_set / r["file"]).read_bytes()


def test_the_harness_prints_the_table(tiny_set):
    done = run(EVAL, tiny_set / "labels.csv", tiny_set, "--provider", "local")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for attribute in ("type", "metal", "stones", "shot"):
        assert any(line.startswith(attribute + " ") for line in out.splitlines()), attribute
        assert f"| {attribute} | " in out  # the Markdown table too
    assert "seconds per image: median" in out and "p95" in out
    assert "confusion (type)" in out and "confusion (metal)" in out
    assert "images: 12" in out and "failed: 0" in out


def test_the_harness_refuses_bad_input(tiny_set, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("name,kind\nx.jpg,ring\n")
    done = run(EVAL, bad, tiny_set)
    assert done.returncode == 2 and "header" in done.stderr
    done = run(EVAL, tmp_path / "missing.csv", tiny_set)
    assert done.returncode == 2 and "cannot read" in done.stderr
    done = run(EVAL, tiny_set / "labels.csv", tiny_set, "--provider", "nowhere")
    assert done.returncode == 2
    # a missing image is counted as failed, not fatal
    partial = tmp_path / "partial.csv"
    partial.write_text("file,type,metal,stones,shot\nnope.jpg,ring,yellow_gold,none,packshot\n")
    done = run(EVAL, partial, tiny_set)
    assert done.returncode == 0 and "failed: 1" in done.stdout


REAL = REPO / "bench" / "jewellery_real_set.py"


def test_without_a_csv_the_harness_puts_the_parts_side_by_side(tiny_set, tmp_path):
    done = run(EVAL, "--real-dir", tmp_path / "real", "--mirror", tmp_path / "no-mirror", "--synthetic-dir", tiny_set)
    assert done.returncode == 0, done.stderr
    assert "real set: not built" in done.stderr and "missing repository snapshots" in done.stderr
    out = done.stdout
    assert "== synthetic (seed 2026)" in out
    table = out.split("== coverage and accuracy when confident")[1]
    assert "synthetic (seed 2026): coverage" in table and "synthetic (seed 2026): right when confident" in table
    for attribute in ("type", "metal", "stones", "shot"):
        assert f"| {attribute} | " in table


def test_the_real_set_is_rebuilt_from_a_snapshot(tmp_path):
    spec = importlib.util.spec_from_file_location("jewellery_real_set_for_tests", REAL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    repo = tmp_path / "mirror" / "someone+photos" / "repo"
    (repo / "rings").mkdir(parents=True)
    photo = b"\xff\xd8\xff not really a jpeg"
    (repo / "rings" / "a.jpg").write_bytes(photo)
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "photos"], check=True)
    commit = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    labels = tmp_path / "labels.csv"
    head = "file,type,metal,stones,shot,split,repo,commit,path\n"
    labels.write_text(
        head
        + f"r000.jpg,ring,yellow_gold,none,packshot,dev,someone/photos,{commit},rings/a.jpg\n"
        + f"r001.jpg,ring,unknown,none,packshot,heldout,someone/photos,{commit},rings/a.jpg\n"
    )
    out = tmp_path / "out"
    assert module.build(out, tmp_path / "mirror", labels) == {"dev": 1, "heldout": 1}
    assert (out / "r000.jpg").read_bytes() == photo
    dev = list(csv.DictReader((out / "dev.csv").open()))
    assert list(dev[0]) == ["file", "type", "metal", "stones", "shot"] and [r["file"] for r in dev] == ["r000.jpg"]
    with pytest.raises(SystemExit, match="someone/photos"):
        module.build(tmp_path / "out2", tmp_path / "elsewhere", labels)
