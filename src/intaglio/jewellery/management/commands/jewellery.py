"""`intaglio jewellery batch DIR --kit NAME --user EMAIL`: a folder of references through the studio with one look.

Each sub-folder is a piece (its images are the piece's references), each image directly in DIR a piece of its own.
The pieces are stored and analysed, their analysis accepted as found, the total price shown and confirmed once
(or --yes), then every piece is generated with the style kit and the images written to OUT/<piece>/.
Jobs run in this process, beside any worker that may be running.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from intaglio.assets.storage import blob_open
from intaglio.core.errors import Refused
from intaglio.jewellery import selectors, services
from intaglio.jobs.models import TERMINAL_STATES, Job, JobState
from intaglio.jobs.services import JobRefused
from intaglio.jobs.workers import run_queued_here


class Progress:
    """One line on stderr, redrawn: a bar, counts and what is going on."""

    def __init__(self, stream, total: int, what: str):
        self.stream, self.total, self.what = stream, total, what

    def show(self, done: int, note: str = "") -> None:
        width = 30
        filled = round(width * done / self.total) if self.total else width
        line = f"\r{self.what} [{'#' * filled}{'-' * (width - filled)}] {done}/{self.total} {note}"
        self.stream.write(line[:160].ljust(80))
        self.stream.flush()

    def end(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


class Command(BaseCommand):
    help = "Run a folder of jewellery references through the studio with one style kit."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        batch = sub.add_parser("batch", help="generate every piece in a folder with a style kit")
        batch.add_argument("folder", type=Path)
        batch.add_argument("--kit", required=True, help="the name of one of the account's style kits")
        batch.add_argument("--user", required=True, help="the account's e-mail address")
        batch.add_argument("--out", type=Path, help="where to write the images (default: FOLDER/generated)")
        batch.add_argument("--yes", action="store_true", help="do not ask to confirm the total price")
        batch.add_argument("--timeout", type=float, default=3600, help="give up waiting after this many seconds")

    def handle(self, *args, action, folder, kit, user, out, yes, timeout, **options):
        owner = get_user_model().objects.filter(email__iexact=user.strip()).first()
        if owner is None:
            raise CommandError(f"No account with the e-mail address {user!r}.")
        style = selectors.style_kit_named(owner=owner, name=kit)
        if style is None:
            names = ", ".join(selectors.style_kits(owner=owner).values_list("name", flat=True)) or "none yet"
            raise CommandError(f"No style kit named {kit!r}. The account's kits: {names}.")
        deadline = time.monotonic() + timeout
        try:
            brief = services.style_kit_brief(style)
            found = services.folder_pieces(folder)
            pieces = self._store(owner, found)
            self._wait([piece.analysis_job_id for piece in pieces], "Analysing ", deadline, "analysis")
            pieces = [
                services.piece_accept_analysis(piece=selectors.piece_get(owner=owner, piece_id=piece.pk))
                for piece in pieces
            ]
            quote = services.batch_quote(owner=owner, pieces=pieces, brief=brief)
            self.stdout.write(
                f"{len(pieces)} pieces, {quote['images']} images with the kit {style.name!r}: {quote['credits']} "
                f"credits (balance {quote['balance']})."
            )
            if not yes and input("Generate? [y/N] ").strip().lower() not in ("y", "yes"):
                raise CommandError("Not confirmed; nothing was generated. The pieces are kept in the studio.")
            batch = services.batch_create(
                owner=owner, pieces=pieces, brief=brief, confirmed_credits=quote["credits"], kit_name=style.name
            )
            self._generate(batch, deadline)
        except Refused as refused:
            raise CommandError(refused.message) from None
        written = self._write(owner, batch, out or folder / "generated")
        self.stdout.write(f"Wrote {written} images to {out or folder / 'generated'}.")

    def _store(self, owner, found):
        progress = Progress(sys.stderr, len(found), "Uploading ")
        pieces = []
        for number, (title, paths) in enumerate(found, 1):
            handles = [open(path, "rb") for path in paths]  # noqa: SIM115 - closed below
            try:
                while True:
                    uploads = [File(handle, name=path.name) for handle, path in zip(handles, paths, strict=True)]
                    try:
                        piece = services.piece_create(owner=owner, uploads=uploads, title=title)
                        for line in services.refused_reference_lines(piece):
                            self.stderr.write(f"\n{title}: not kept: {line}")
                        pieces.append(piece)
                        break
                    except JobRefused as refused:
                        if refused.code != "plan_limit" or not run_queued_here():
                            raise
                        for handle in handles:  # the plan's jobs ran: store the piece again from the start
                            handle.seek(0)
            finally:
                for handle in handles:
                    handle.close()
            progress.show(number, title)
        progress.end()
        return pieces

    def _wait(self, job_ids, what, deadline, noun):
        progress = Progress(sys.stderr, len(job_ids), what)
        while True:
            run_queued_here()
            states = dict(Job.objects.filter(pk__in=job_ids).values_list("pk", "state"))
            done = sum(state in TERMINAL_STATES for state in states.values())
            progress.show(done)
            if done == len(job_ids):
                break
            if time.monotonic() > deadline:
                progress.end()
                raise CommandError(f"Gave up waiting for the {noun} after the timeout; the work goes on in the studio.")
            time.sleep(0.5)
        progress.end()
        failed = [pk for pk, state in states.items() if state != JobState.SUCCEEDED]
        if failed:
            raise CommandError(f"{len(failed)} {noun} job(s) did not succeed (jobs {failed}); see the studio.")

    def _generate(self, batch, deadline):
        progress = Progress(sys.stderr, len(batch.piece_ids), "Generating")
        while True:
            run_queued_here()
            services.batch_advance(batch=batch)
            rows = selectors.batch_progress(batch)
            done = sum(row["state"] in TERMINAL_STATES or row["state"] == "skipped" for row in rows)
            progress.show(done)
            if done == len(rows):
                break
            if time.monotonic() > deadline:
                progress.end()
                raise CommandError("Gave up waiting for the generations after the timeout; they go on in the studio.")
            time.sleep(0.5)
        progress.end()
        for row in rows:
            if row["state"] != JobState.SUCCEEDED:
                self.stderr.write(f"{row['title']}: {row['state']} {row['note']}".rstrip())

    def _write(self, owner, batch, out: Path) -> int:
        written = 0
        for generation in selectors.generations_owned(owner=owner).filter(batch=batch):
            folder = out / (generation.piece.title or f"piece-{generation.piece_id}")
            folder.mkdir(parents=True, exist_ok=True)
            for asset in generation.job.outputs.all():
                with blob_open(asset.storage_key) as source:
                    (folder / asset.download_name).write_bytes(source.read())
                written += 1
        return written
