"""The `intaglio` command: Django's management commands under the project's name."""

import os
import sys


def main() -> None:
    if sys.argv[1:2] == ["engrave"]:
        # The artwork engine needs no database or settings: skipping Django keeps its start fast.
        from intaglio.imaging.artwork.cli import main as engrave

        sys.exit(engrave(sys.argv[2:]))
    if sys.argv[1:2] == ["calibrate"]:
        from intaglio.imaging.calibration.cli import main as calibrate

        sys.exit(calibrate(sys.argv[2:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "intaglio.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["intaglio", *sys.argv[1:]])


if __name__ == "__main__":
    main()
