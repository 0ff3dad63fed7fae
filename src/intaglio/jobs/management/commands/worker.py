from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from intaglio.jobs.workers import Supervisor, run_child


class Command(BaseCommand):
    help = "Run job workers (default: one per core) and the scheduler."

    def add_arguments(self, parser):
        parser.add_argument(
            "--processes", type=int, default=settings.WORKER_PROCESSES, help="worker processes (default: one per core)"
        )
        parser.add_argument(
            "--no-scheduler", action="store_true", help="do not run periodic tasks from this machine (workers only)"
        )
        parser.add_argument(
            "--poll-interval", type=float, default=0.5, help="seconds between queue checks when idle (default 0.5)"
        )
        parser.add_argument("--child", action="store_true", help="internal: run one worker loop in this process")

    def handle(self, *args, processes, no_scheduler, poll_interval, child, **options):
        if child:
            run_child(poll_interval=poll_interval)
            return
        if processes < 0:
            raise CommandError("--processes must be 0 or more")
        self.stdout.write(
            f"Intaglio workers: {processes} process(es), scheduler {'off' if no_scheduler else 'on'}. Ctrl+C stops."
        )
        self.stdout.flush()
        Supervisor(processes=processes, scheduler=not no_scheduler, poll_interval=poll_interval).run()
