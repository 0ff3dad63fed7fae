import os

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the platform (web) with waitress: the embedded default's one process."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")
        parser.add_argument("--threads", type=int, default=8, help="web request threads (default 8)")

    def handle(self, *args, host, port, threads, **options):
        from waitress import serve

        from intaglio.wsgi import application

        shown_host = f"[{host}]" if ":" in host else host
        if "INTAGLIO_BASE_URL" not in os.environ:
            # Links in e-mails point at the address actually served unless a public one is configured.
            local_host = "127.0.0.1" if host in ("0.0.0.0", "::") else shown_host  # noqa: S104
            settings.BASE_URL = f"http://{local_host}:{port}"
        self.stdout.write(f"Intaglio is running at http://{shown_host}:{port}/  (data: {settings.DATA_DIR})")
        self.stdout.write("Press Ctrl+C to stop.")
        self.stdout.flush()
        serve(
            application,
            host=host,
            port=port,
            threads=threads,
            ident="intaglio",
            clear_untrusted_proxy_headers=True,
        )
