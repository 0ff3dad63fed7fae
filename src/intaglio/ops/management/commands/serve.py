import os
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the platform: web (waitress), job workers and the scheduler together. The embedded default."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")
        parser.add_argument("--threads", type=int, default=8, help="web request threads (default 8)")
        parser.add_argument(
            "--workers",
            type=int,
            default=settings.WORKER_PROCESSES,
            help="job worker processes started beside the web server (default: one per core; 0 = web only, "
            "for when workers run elsewhere)",
        )

    def handle(self, *args, host, port, threads, workers, **options):
        from django.core.wsgi import get_wsgi_application
        from waitress import serve

        application = get_wsgi_application()  # what intaglio/wsgi.py serves; settings are already loaded here

        shown_host = f"[{host}]" if ":" in host else host
        if "INTAGLIO_BASE_URL" not in os.environ:
            # Links in e-mails point at the address actually served unless a public one is configured.
            local_host = "127.0.0.1" if host in ("0.0.0.0", "::") else shown_host  # noqa: S104
            settings.BASE_URL = f"http://{local_host}:{port}"
        self.stdout.write(f"Intaglio is running at http://{shown_host}:{port}/  (data: {settings.DATA_DIR})")
        self.stdout.write("Press Ctrl+C to stop.")
        self.stdout.flush()
        supervisor = None
        if workers > 0:
            # Workers and the scheduler run in their own processes so heavy image work never stalls requests.
            command = [sys.executable, "-m", "intaglio.cli", "worker", "--processes", str(workers)]
            supervisor = subprocess.Popen(command, env={**os.environ, "INTAGLIO_BASE_URL": settings.BASE_URL})  # noqa: S603
        # SIGTERM ends the web server the same way Ctrl+C does, so the workers are always stopped with it.
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            serve(
                application,
                host=host,
                port=port,
                threads=threads,
                ident="intaglio",
                clear_untrusted_proxy_headers=True,
            )
        except KeyboardInterrupt:
            pass
        finally:
            if supervisor is not None and supervisor.poll() is None:
                supervisor.send_signal(signal.SIGTERM)
                supervisor.wait()


def _interrupt(signum, frame):
    raise KeyboardInterrupt
