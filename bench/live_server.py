"""What the benchmarks share to run the platform for real: a throwaway data directory with migrations
(`setup_data_dir`), and `intaglio serve` started as a subprocess on a free loopback port (`LiveServer`).

Import it from a bench script after the script has put the repository's `src` on `sys.path`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def setup_data_dir(prefix: str = "intaglio-bench-", **env: str) -> str:
    """A throwaway INTAGLIO_DATA_DIR (unless one is set), Django set up in this process and migrated.

    Parameters
    ----------
    prefix : str
        Name prefix of the temporary directory.
    **env : str
        Environment variables set (if not already set) before Django starts.

    Returns
    -------
    str
        The data directory.
    """
    os.environ.setdefault("INTAGLIO_DATA_DIR", tempfile.mkdtemp(prefix=prefix))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "intaglio.settings")
    for name, value in env.items():
        os.environ.setdefault(name, value)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return os.environ["INTAGLIO_DATA_DIR"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def process_tree_stats(root: int) -> dict[int, list[str]]:
    """The /proc stat fields (after the command name) of a process and all its descendants, by pid."""
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry.name)] = fields
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, pending = {}, [root]
    while pending:
        pid = pending.pop()
        if pid in stats:
            tree[pid] = stats[pid]
        pending.extend(children.get(pid, []))
    return tree


def process_tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (from /proc; 0 where it is gone)."""
    total = 0
    page = os.sysconf("SC_PAGE_SIZE")
    for current in process_tree_stats(pid):
        with contextlib.suppress(OSError):
            total += int(Path(f"/proc/{current}/statm").read_text().split()[1]) * page
    return total


class LiveServer:
    """`intaglio serve` on 127.0.0.1 and a free port, on the data directory and database of this process's
    environment, until the `with` block ends.

    Parameters
    ----------
    *serve_args : str
        More arguments for `intaglio serve` (e.g. "--workers", "0").
    env : dict, optional
        Environment variables added for the server.
    command : list of str, optional
        Another command to start instead (used to compare servers); "{port}" in it is replaced.
    """

    def __init__(self, *serve_args: str, env: dict | None = None, command: list[str] | None = None):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        default = [sys.executable, "-m", "intaglio.cli", "serve", "--port", str(self.port), *serve_args]
        self.command = [part.replace("{port}", str(self.port)) for part in command] if command else default
        self.env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH", "")])),
            **(env or {}),
        }
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in __exit__
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> LiveServer:
        # Its own process group, so stopping it stops the web processes and workers it started.
        self.process = subprocess.Popen(  # noqa: S603
            self.command, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the server exited at start:\n{self.output()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=2) as answer:  # noqa: S310
                    if answer.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        raise SystemExit(f"the server did not answer /healthz within 60 s:\n{self.output()}")

    def rss(self) -> int:
        """Resident bytes of the server and everything it started (web processes, workers)."""
        return process_tree_rss(self.process.pid)

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()
