"""`intaglio serve`: the web server, job workers and the scheduler together, the embedded default.

The web server is granian (HTTP in Rust, on tokio) running `intaglio.asgi:application`: a small front on the
event loop that answers /healthz, enforces the body limits and reads bodies, then runs Django (WSGI) on a bounded
thread pool. Chosen by measurement (bench/front_servers.py on 2 shared cores, SQLite; 500 hostile sockets, half
sending authenticated upload headers and withholding the body, half dripping one header line every 2 s; then
GET /api/v1/jobs/{id} from 32 keep-alive clients):

=================  ===================  ===============  ==================  ===================  ==============
server             /healthz under 500   500 MB declared  chunked, 401 MB     slow sockets         GET job
                   slow sockets                          limit               dropped              (32 clients)
=================  ===================  ===============  ==================  ===================  ==============
waitress (before)  0/2, 5 s timeouts    no answer: reads no answer, 657 MB   0 of 500             122-194/s
                                        the body first   read                (100-connection cap)
waitress tuned     40/40, worst 0.02 s  413 at once      413 at the limit    250 (drips kept)     (1 process)
gunicorn gthread   0/2, 5 s timeouts    413 (view)       chunked not seen    0
granian WSGI       0/2, 5 s timeouts    413 after 0.4 s  chunked not seen    250                  298-309/s
uvicorn + front    40/40, worst 0.01 s  413 at once      413 at the limit    250 (no header
                                                                             timeout in uvicorn)
granian + front    40/40, worst 0.05 s  413 at once      413 at the limit    500 (10 s headers,   354-372/s
                                                         (+1.7 MB buffers)   20 s body)
=================  ===================  ===============  ==================  ===================  ==============

Blocking servers (gunicorn gthread, granian WSGI) give a thread to each withheld body, so /healthz starves;
waitress reads bodies on its event loop but keeps header drips forever and answers /healthz on the request
threads (a burst of image work delays it). Granian plus the front is the only one that holds every figure, and
the fastest on the job poll: no thread waits on a client, and Django runs as plain WSGI.
"""

import os
import subprocess
import sys

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connections

HEADER_READ_TIMEOUT_MS = 10_000  # a client gets this long to send its request line and headers
BACKLOG = 2048  # connections waiting to be accepted, and requests each web process takes on at once


class Command(BaseCommand):
    help = "Serve the platform: web (granian), job workers and the scheduler together. The embedded default."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")
        parser.add_argument("--threads", type=int, default=8, help="request threads per web process (default 8)")
        parser.add_argument(
            "--web-processes",
            type=int,
            default=settings.WORKER_PROCESSES,
            help="web server processes (default: one per core)",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=settings.WORKER_PROCESSES,
            help="job worker processes started beside the web server (default: one per core; 0 = web only, "
            "for when workers run elsewhere)",
        )

    def handle(self, *args, host, port, threads, web_processes, workers, **options):
        from granian import Granian
        from granian.constants import HTTPModes, Interfaces
        from granian.http import HTTP1Settings

        shown_host = f"[{host}]" if ":" in host else host
        if "INTAGLIO_BASE_URL" not in os.environ:
            # Links in e-mails point at the address actually served unless a public one is configured.
            local_host = "127.0.0.1" if host in ("0.0.0.0", "::") else shown_host  # noqa: S104
            settings.BASE_URL = f"http://{local_host}:{port}"
        # The web processes load intaglio.asgi themselves: they learn the address and thread count from here.
        os.environ["INTAGLIO_BASE_URL"] = settings.BASE_URL
        os.environ["INTAGLIO_WEB_THREADS"] = str(threads)
        self.stdout.write(f"Intaglio is running at http://{shown_host}:{port}/  (data: {settings.DATA_DIR})")
        self.stdout.write("Press Ctrl+C to stop.")
        self.stdout.flush()
        supervisor = None
        if workers > 0:
            # Workers and the scheduler run in their own processes so heavy image work never stalls requests.
            command = [sys.executable, "-m", "intaglio.cli", "worker", "--processes", str(workers)]
            supervisor = subprocess.Popen(command, env=os.environ.copy())  # noqa: S603
        connections.close_all()  # nothing open is carried into the web processes
        server = Granian(
            "intaglio.asgi:application",
            address=host,
            port=port,
            interface=Interfaces.ASGI,
            workers=max(1, web_processes),
            http=HTTPModes.http1,
            websockets=False,
            backlog=BACKLOG,
            backpressure=BACKLOG,
            http1_settings=HTTP1Settings(header_read_timeout=HEADER_READ_TIMEOUT_MS),
            log_level="warning",
            respawn_failed_workers=True,
        )
        try:
            # Granian stops its processes on Ctrl+C and SIGTERM alike, then returns here to stop the workers.
            server.serve()
        except KeyboardInterrupt:
            pass
        finally:
            if supervisor is not None and supervisor.poll() is None:
                supervisor.terminate()
                supervisor.wait()
