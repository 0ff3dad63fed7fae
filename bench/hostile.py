"""The acceptance checks of "holds under hostile load" against a real `intaglio serve` on loopback.

    python bench/hostile.py                 # SQLite in a throwaway data dir, about 3 minutes
    python bench/hostile.py --quick         # skips the 60 s memory settle wait

Starts `intaglio serve` (its web processes and one job worker) on a throwaway data directory, attacks it from this
process only over 127.0.0.1, and prints one table: check | figure | target | pass. Never fails on a figure.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import random
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# bench/queue.py would shadow the standard library's queue module: drop the script's own directory.
sys.path = [str(REPO / "src"), str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]

from bench import hostile_front as front  # noqa: E402
from bench.live_server import LiveServer, setup_data_dir  # noqa: E402

MB = 1024 * 1024
HOST = "127.0.0.1"
PASSWORD = "right password 1234"
# Room for 16 100 MP images in one account: the memory check is about decoding, not plans or credits.
PLANS = {"free": {"monthly_credits": 100_000, "storage_mb": 100_000, "concurrent_jobs": 1000, "max_image_mp": 100}}

rows: list[tuple[str, str, str, bool]] = []


def row(check: str, figure: str, target: str, ok: bool) -> None:
    rows.append((check, figure, target, ok))
    print(f"  {check}: {figure}  ({'pass' if ok else 'FAIL'})", flush=True)


def _account(email: str):
    from django.utils import timezone

    from intaglio.accounts.models import User
    from intaglio.accounts.services import api_token_create
    from intaglio.credits.services import credits_grant_monthly

    user = User.objects.create_user(email=email, password=PASSWORD)
    credits_grant_monthly(user=user, period=f"{timezone.now():%Y-%m}")
    return user, api_token_create(user=user, name="hostile bench")[1]


def check_slow_sockets(server: LiveServer, count: int) -> None:
    slow = asyncio.run(front.slow_sockets(HOST, server.port, count=count, hold=10, watch=25))
    row(
        f"{count} slow sockets (withheld bodies, dripped headers) -> /healthz",
        f"{slow['health_ok']}/{slow['health_asked']} answered, worst {slow['health_worst']:.2f} s",
        "all answered, worst <= 1 s",
        slow["health_ok"] == slow["health_asked"] and slow["health_worst"] <= 1.0,
    )
    row(
        f"{count} slow sockets dropped by the server",
        f"{slow['dropped']}/{count}, the last after {slow['dropped_after']:.0f} s",
        "all, within 30 s",
        slow["dropped"] == count and slow["dropped_after"] <= 30,
    )


def check_oversize(server: LiveServer) -> None:
    from intaglio.assets.uploads import request_body_limit

    status, seconds = asyncio.run(front.declared_oversize(HOST, server.port, 500 * MB))
    row(
        "500 MB declared, headers only",
        f"{status or 'no answer'} after {seconds:.2f} s, 0 MB of body sent",
        "413 before 1 MB past the limit is read",
        status == 413 and seconds <= 1.0,
    )
    limit = request_body_limit()
    status, sent, seconds = front.chunked_oversize(HOST, server.port, limit)
    past = (sent - limit) / MB
    row(
        f"chunked body past the {limit / MB:.0f} MB limit",
        f"{status or 'no answer'} after {sent / MB:.0f} MB sent ({past:+.1f} MB, socket buffers included)",
        "413 within 8 MB past the limit",
        status == 413 and past <= 8,
    )


def check_rate_limit(server: LiveServer, token: str, job_path: str, clients: int, seconds: float) -> None:
    import requests
    from django.conf import settings

    from intaglio.core.ratelimit import rate_parse

    limit, window = rate_parse(settings.API_RATE)
    per_window: dict[str, int] = {}
    lock, deadline = threading.Lock(), time.monotonic() + seconds
    counts = {"sent": 0, "errors": 0}

    def client():
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        while time.monotonic() < deadline:
            try:
                answer = session.get(f"{server.base_url}{job_path}", timeout=10)
            except requests.RequestException:
                with lock:
                    counts["errors"] += 1
                continue
            with lock:
                counts["sent"] += 1
                if answer.status_code == 200:
                    reset = answer.headers.get("X-RateLimit-Reset", "?")
                    per_window[reset] = per_window.get(reset, 0) + 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    most = max(per_window.values(), default=0)
    row(
        f"{clients} clients on one token for {seconds:.0f} s",
        f"{sum(per_window.values())} x 200 of {counts['sent']}, at most {most} in one {window} s window",
        f"<= {limit} per window",
        most <= limit,
    )


def _login_form(session, url: str) -> str:
    page = session.get(url, timeout=10).text
    marker = 'name="csrfmiddlewaretoken" value="'
    return page.split(marker, 1)[1].split('"', 1)[0]


def check_logins(server: LiveServer) -> None:
    import requests
    from django.conf import settings

    email = "guessed@example.com"
    _account(email)
    session = requests.Session()
    url = f"{server.base_url}/login/"
    csrf = _login_form(session, url)
    start, outcomes, lock = threading.Barrier(40), [], threading.Lock()

    def attempt():
        start.wait()
        answer = session.post(
            url,
            data={"csrfmiddlewaretoken": csrf, "username": email, "password": "wrong password"},
            headers={"Referer": url},
            timeout=30,
        )
        with lock:
            outcomes.append("throttled" if "try again in" in answer.text else "checked")

    threads = [threading.Thread(target=attempt) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    checked = outcomes.count("checked")
    limit = settings.LOGIN_FAILURES_PER_ACCOUNT_CLIENT
    row(
        "40 simultaneous wrong passwords, one account",
        f"{checked} checked, {outcomes.count('throttled')} throttled",
        f"exactly {limit} checked",
        checked == limit,
    )

    admin_email = "admin-guessed@example.com"
    user, _ = _account(admin_email)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    admin = requests.Session()
    url = f"{server.base_url}/admin/login/"
    throttled = 0
    for _ in range(30):
        csrf = _login_form(admin, url)
        answer = admin.post(
            url,
            data={"csrfmiddlewaretoken": csrf, "username": admin_email, "password": "wrong", "next": "/admin/"},
            headers={"Referer": url},
            timeout=30,
        )
        throttled += "try again in" in answer.text
    row(
        "30 wrong admin passwords",
        f"{30 - throttled} checked, {throttled} throttled",
        "throttled",
        throttled > 0,
    )


def _upload(server: LiveServer, token: str, files: list[tuple[str, bytes, str]]):
    import requests

    return requests.post(
        f"{server.base_url}/api/v1/uploads",
        files=[("files", item) for item in files],
        headers={"Authorization": f"Bearer {token}"},
        timeout=600,
    )


def grainy_jpeg(seed: int = 16) -> bytes:
    """A 12 MP photo-like gradient under heavy film grain, saved at quality 95 without chroma subsampling."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    height, width = 3000, 4000
    ramp = np.linspace(40, 215, width, dtype=np.float32)[None, :, None]
    grain = rng.normal(0, 28, (height, width, 3)).astype(np.float32)
    pixels = np.clip(ramp + grain, 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG", quality=95, subsampling=0)
    return out.getvalue()


def check_grainy_jpeg(server: LiveServer, token: str) -> None:
    data = grainy_jpeg()
    answer = _upload(server, token, [("grain.jpg", data, "image/jpeg")])
    row(
        f"grainy q95 4:4:4 JPEG ({len(data) / MB:.1f} MB)",
        str(answer.status_code),
        "201",
        answer.status_code == 201,
    )


def tiny_png(side: int = 9999) -> bytes:
    """A 100 MP one-bit PNG of a few KB: all white."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (side, side), 1).save(out, format="PNG", optimize=True)
    return out.getvalue()


def check_memory(server: LiveServer, token: str, settle: float) -> None:
    png = tiny_png()
    baseline = server.rss()
    peak, stop = [baseline], threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], server.rss())
            time.sleep(0.05)

    health: list = []

    def poll_health():
        health.extend(asyncio.run(front.poll_healthz(HOST, server.port, 6, every=0.25)))

    sampler = threading.Thread(target=sample)
    sampler.start()
    statuses, lock = [], threading.Lock()

    def send_two(index: int):
        pair = [(f"tiny{index}{side}.png", png, "image/png") for side in "ab"]
        answer = _upload(server, token, pair)
        with lock:
            statuses.append(answer.status_code)

    started = time.monotonic()
    senders = [threading.Thread(target=send_two, args=(i,)) for i in range(8)] + [threading.Thread(target=poll_health)]
    for thread in senders:
        thread.start()
    for thread in senders:
        thread.join()
    # The workers decode the stored files for their previews: keep sampling while they do.
    while time.monotonic() - started < 30:
        time.sleep(0.5)
    stop.set()
    sampler.join()
    growth = peak[0] - baseline
    row(
        f"16 tiny 100 MP PNGs ({len(png) / 1024:.0f} KB each) in 8 parallel requests",
        f"answers {sorted(set(statuses))}; peak RSS growth {growth / MB:.0f} MB (baseline {baseline / MB:.0f} MB)",
        "peak growth <= 1536 MB",
        growth <= 1536 * MB,
    )
    worst = max((seconds for _, seconds in health), default=float("nan"))
    answered = sum(status == 200 for status, _ in health)
    row(
        "/healthz during that burst",
        f"{answered}/{len(health)} answered, worst {worst:.2f} s",
        "all answered, worst <= 1 s",
        answered == len(health) and worst <= 1.0,
    )
    time.sleep(max(0.0, settle - (time.monotonic() - started)))
    after = server.rss()
    row(
        f"RSS {settle:.0f} s after the burst",
        f"{(after - baseline) / MB:+.0f} MB from baseline",
        "within 200 MB",
        after - baseline <= 200 * MB,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=500)
    parser.add_argument("--quick", action="store_true", help="no 60 s wait for memory to settle")
    args = parser.parse_args()
    random.seed(16)
    setup_data_dir("intaglio-bench-hostile-", INTAGLIO_PLANS=json.dumps(PLANS))
    from django.db import connections

    from intaglio.jobs.models import Job

    rate_user, rate_token = _account("rate@example.com")
    job = Job.objects.create(owner=rate_user, kind="preview")
    _, upload_token = _account("uploads@example.com")
    front.TOKEN = upload_token  # the slow sockets and oversized bodies are authenticated uploads
    connections.close_all()
    with LiveServer("--workers", "1", env={"INTAGLIO_DEBUG": "1"}) as server:
        print(f"intaglio serve at {server.base_url}, pid {server.process.pid}", flush=True)
        check_slow_sockets(server, args.sockets)
        check_oversize(server)
        check_rate_limit(server, rate_token, f"/api/v1/jobs/{job.pk}", clients=50, seconds=20)
        check_logins(server)
        check_grainy_jpeg(server, upload_token)
        check_memory(server, upload_token, settle=30 if args.quick else 60)
    width = max(len(check) for check, *_ in rows)
    figure_width = max(len(figure) for _, figure, *_ in rows)
    print(f"\n{'check':<{width}} | {'figure':<{figure_width}} | target | pass")
    for check, figure, target, ok in rows:
        print(f"{check:<{width}} | {figure:<{figure_width}} | {target} | {'yes' if ok else 'NO'}")


if __name__ == "__main__":
    main()
