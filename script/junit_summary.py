"""Sums pytest JUnit XML reports into script/test's last line: "N passed, N failed[, N skipped]"."""

import argparse
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--lint-failed", type=int, default=0)
parser.add_argument("reports", nargs="*", type=Path)
args = parser.parse_args()

passed = failed = skipped = 0
for report in args.reports:
    if not report.exists() or report.stat().st_size == 0:
        failed += 1  # a pass that never reported (crashed) counts as a failure
        continue
    root = ET.parse(report).getroot()  # noqa: S314 - our own pytest reports
    for suite in [root] if root.tag == "testsuite" else root.iter("testsuite"):
        tests = int(suite.get("tests", 0))
        bad = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skip = int(suite.get("skipped", 0))
        passed += tests - bad - skip
        failed += bad
        skipped += skip
failed += args.lint_failed

line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed else 0)
