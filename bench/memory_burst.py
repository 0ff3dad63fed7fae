"""Memory of a live `intaglio serve` under a burst of tiny 100-megapixel PNGs (issue 16, failure 4).

Starts `intaglio serve` (web and its workers) on a throwaway data directory, makes one studio-plan account with an
API token, then sends 16 one-bit 9999 × 9999 PNGs (about 12 KB each) in 8 parallel upload requests of 2 files.
The resident memory of the server and every process under it is sampled throughout; the figures are the peak
growth over the idle baseline and the growth left 60 s after the last answer (target: peak ≤ 1.5 GB, back within
200 MB of the baseline).

    python bench/memory_burst.py [--files 16] [--parallel 8] [--settle 60]

`memory_burst` is the reusable part (bench/hostile.py can call it with a server it started itself). Loopback
only; prints figures, never fails on them.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MB = 1_000_000


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            with open(f"/proc/{current}/statm") as statm:
                total += int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            pass
    return total


def tiny_png(side: int = 9999) -> bytes:
    """A one-bit PNG of side × side pixels, all black: a few kilobytes that decode to side² bytes and more."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("1", (side, side)).save(buffer, "PNG")
    return buffer.getvalue()


def _multipart(files: list[bytes]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for index, data in enumerate(files):
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="tiny-{index}.png"\r\n'
            "Content-Type: image/png\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _upload(base_url: str, token: str, files: list[bytes]) -> int:
    body, content_type = _multipart(files)
    request = urllib.request.Request(  # noqa: S310 - loopback URL built here
        f"{base_url}/api/v1/uploads",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
    )
    try:
        with urllib.request.urlopen(request, timeout=600) as answer:  # noqa: S310
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def memory_burst(
    base_url: str, token: str, server_pid: int, *, files: int = 16, parallel: int = 8, settle: float = 60.0
) -> dict:
    """Send the burst to a running server and measure the resident memory of its process tree.

    Parameters
    ----------
    base_url : str
        e.g. ``http://127.0.0.1:8123``.
    token : str
        An API token of an account whose plan accepts 100-megapixel images.
    server_pid : int
        The `intaglio serve` process; its descendants (worker supervisor, workers) are counted too.
    files, parallel : int, optional
        PNGs in all and parallel requests (the files are split evenly between the requests).
    settle : float, optional
        Seconds to wait after the last answer before the final reading.

    Returns
    -------
    dict
        ``baseline_mb``, ``peak_growth_mb``, ``after_growth_mb``, ``statuses`` (HTTP status → count) and
        ``seconds`` (time to the last answer).
    """
    png = tiny_png()
    baseline = tree_rss(server_pid)
    peak = [baseline]
    sampling = threading.Event()

    def sample():
        while not sampling.is_set():
            peak[0] = max(peak[0], tree_rss(server_pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    per_request = max(1, files // parallel)
    started = time.monotonic()
    # Plain threads: bench/queue.py shadows the standard library's queue, which concurrent.futures needs.
    statuses: list[int] = []
    senders = [
        threading.Thread(target=lambda: statuses.append(_upload(base_url, token, [png] * per_request)))
        for _ in range(parallel)
    ]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    answered = time.monotonic() - started
    # The preview jobs run after the answers: keep sampling through the settle time.
    time.sleep(settle)
    sampling.set()
    sampler.join()
    after = tree_rss(server_pid)
    counts: dict[int, int] = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return {
        "baseline_mb": round(baseline / MB),
        "peak_growth_mb": round((peak[0] - baseline) / MB),
        "after_growth_mb": round((after - baseline) / MB),
        "statuses": counts,
        "seconds": round(answered, 1),
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _studio_token(env: dict) -> str:
    script = (
        "from intaglio.accounts.models import User\n"
        "from intaglio.accounts.services import api_token_create\n"
        "from django.utils import timezone\n"
        "u = User.objects.create_user(email='burst@example.com', password='x-burst-password-1', plan='studio')\n"
        "u.email_verified_at = timezone.now(); u.save()\n"
        "print(api_token_create(user=u, name='burst')[1])\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "intaglio.cli", "shell", "-c", script], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return done.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=16)
    parser.add_argument("--parallel", type=int, default=8)
    parser.add_argument("--settle", type=float, default=60.0)
    parser.add_argument("--src", default=str(REPO / "src"), help="the code to serve (e.g. an older checkout's src)")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="intaglio-burst-"))
    env = {**os.environ, "INTAGLIO_DATA_DIR": str(data), "PYTHONPATH": args.src}
    env.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "intaglio.cli", "migrate", "-v", "0"], env=env, check=True)
    token = _studio_token(env)
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "intaglio.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base_url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base_url}/healthz", timeout=2).close()  # noqa: S310
                break
            except OSError:
                time.sleep(0.3)
        time.sleep(5)  # workers up and idle
        figures = memory_burst(
            base_url, token, server.pid, files=args.files, parallel=args.parallel, settle=args.settle
        )
    finally:
        server.terminate()
        server.wait(timeout=60)
    print(json.dumps(figures))
    print(f"{'check':44} {'figure':>10} {'target':>10}")
    print(f"{'peak RSS growth, web + workers (MB)':44} {figures['peak_growth_mb']:>10} {'<= 1500':>10}")
    print(f"{'growth left 60 s after the burst (MB)':44} {figures['after_growth_mb']:>10} {'<= 200':>10}")


if __name__ == "__main__":
    main()
