"""Retention sweep throughput: how long retention_sweep takes to remove 100,000 expired assets, blobs included.

    python bench/sweep.py [--count 100000] [--db sqlite|postgres] [--storage local|s3]

Sets up a throwaway platform: a data directory, the database (SQLite, or a PostgreSQL cluster from script/postgres;
an existing one when DATABASE_URL is set), the blob store (a local directory, or a fresh bucket on Ceph's radosgw
from script/s3; an existing server when INTAGLIO_S3_ENDPOINT_URL and its keys are set), migrations and one account.
It then stores `--count` small real blobs and their Asset rows, all expired (expiries spread over the last hour,
as an hourly sweep finds them), a few under legal hold, published, curated, or used by a queued job. Creating them
is timed separately and not counted. Then one retention_sweep() on the real clock, a second one (idempotency:
nothing more to do), and a storage scan. Prints figures only; nothing here fails on time.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/queue.py would shadow the standard library's `queue` (used by concurrent.futures) while this directory
# leads sys.path, so the directory goes last.
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE] + [str(HERE)]

import argparse  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import shlex  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from datetime import timedelta  # noqa: E402

REPO = HERE.parent
# How many of the expired assets each skip reason gets (the rest are eligible).
HELD = {"legal_hold": 10, "published": 5, "curated": 5, "in_use": 10}


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Platform:
    """The database and blob store for one run; stops only what it started."""

    def __init__(self, *, db: str, storage: str):
        self.db, self.storage = db, storage
        self.dir = Path(tempfile.mkdtemp(prefix="intaglio-sweep-bench-"))
        self.dir.chmod(0o755)  # the postgres user (when run as root) needs to reach its cluster directory
        self.started_pg = self.started_s3 = False
        self.bucket = None
        self.s3_env: dict[str, str] = {}
        self.notes: list[str] = []

    def __enter__(self) -> Platform:
        os.environ["INTAGLIO_DATA_DIR"] = str(self.dir / "data")
        os.environ.setdefault("INTAGLIO_LOG_LEVEL", "WARNING")  # the sweep logs every deleted id at INFO
        if self.db == "postgres":
            if os.environ.get("DATABASE_URL"):
                self.notes.append("database: reusing DATABASE_URL")
            else:
                started = subprocess.run(
                    [str(REPO / "script" / "postgres"), "start", str(self.dir / "pg")], capture_output=True, text=True
                )
                if started.returncode != 0:
                    raise SystemExit(f"could not start PostgreSQL:\n{started.stderr}")
                os.environ["DATABASE_URL"] = started.stdout.strip()
                self.started_pg = True
                self.notes.append("database: throwaway PostgreSQL from script/postgres")
        else:
            os.environ.pop("DATABASE_URL", None)
            self.notes.append("database: SQLite (WAL) in a temporary data directory")
        if self.storage == "s3":
            self._start_s3()
        else:
            os.environ.pop("INTAGLIO_S3_BUCKET", None)
            self.notes.append("storage: local directory")
        sys.path.insert(0, str(REPO))
        os.environ["DJANGO_SETTINGS_MODULE"] = "intaglio.settings"
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        return self

    def _start_s3(self) -> None:
        if os.environ.get("INTAGLIO_S3_ENDPOINT_URL"):
            env = {
                "S3_ENDPOINT_URL": os.environ["INTAGLIO_S3_ENDPOINT_URL"],
                "S3_ACCESS_KEY_ID": os.environ.get("INTAGLIO_S3_ACCESS_KEY_ID", ""),
                "S3_SECRET_ACCESS_KEY": os.environ.get("INTAGLIO_S3_SECRET_ACCESS_KEY", ""),
                "S3_REGION": os.environ.get("INTAGLIO_S3_REGION", ""),
            }
            self.notes.append(f"storage: reusing the S3 server at {env['S3_ENDPOINT_URL']}")
        else:
            started = subprocess.run(
                [str(REPO / "script" / "s3"), "start", str(self.dir / "s3")], capture_output=True, text=True
            )
            if started.returncode != 0:
                raise SystemExit(
                    f"could not start radosgw (script/s3 exited {started.returncode}); run with --storage local.\n"
                    f"{started.stderr[-3000:]}"
                )
            self.started_s3 = True
            lines = [line for line in started.stdout.splitlines() if line.strip()]
            env = dict(word.split("=", 1) for word in shlex.split(lines[-1]))
            self.notes.append("storage: Ceph radosgw (one memstore OSD) from script/s3")
        self.s3_env = env
        # A fresh bucket per run, so the storage scan sees only this run's blobs.
        self.bucket = f"sweep-bench-{secrets.token_hex(4)}"
        self._client().create_bucket(Bucket=self.bucket)
        os.environ.update(
            {
                "INTAGLIO_S3_BUCKET": self.bucket,
                "INTAGLIO_S3_ENDPOINT_URL": env["S3_ENDPOINT_URL"],
                "INTAGLIO_S3_ACCESS_KEY_ID": env["S3_ACCESS_KEY_ID"],
                "INTAGLIO_S3_SECRET_ACCESS_KEY": env["S3_SECRET_ACCESS_KEY"],
                "INTAGLIO_S3_REGION": env["S3_REGION"],
            }
        )

    def _client(self, pool: int = 10):
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.s3_env["S3_ENDPOINT_URL"],
            aws_access_key_id=self.s3_env["S3_ACCESS_KEY_ID"],
            aws_secret_access_key=self.s3_env["S3_SECRET_ACCESS_KEY"],
            region_name=self.s3_env["S3_REGION"] or None,
            config=Config(max_pool_connections=pool),
        )

    def __exit__(self, *exc) -> None:
        from django.db import connections

        connections.close_all()
        if self.bucket and not self.started_s3:  # a server we did not start: leave it as we found it
            client = self._client()
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
                keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
                if keys:
                    client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys})
            client.delete_bucket(Bucket=self.bucket)
        if self.started_s3:
            subprocess.run([str(REPO / "script" / "s3"), "stop", str(self.dir / "s3")], capture_output=True)
        if self.started_pg:
            subprocess.run([str(REPO / "script" / "postgres"), "stop", str(self.dir / "pg")], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def populate(count: int, threads: int, s3_client=None) -> dict:
    """`count` expired assets with real blobs (blob first, then row), a few of them held back for each reason."""
    from django.conf import settings
    from django.utils import timezone

    from intaglio.accounts.models import User
    from intaglio.assets.models import Asset, AssetKind, RetentionClass
    from intaglio.assets.storage import blob_write
    from intaglio.jobs.models import Job

    if Asset.objects.exists():
        raise SystemExit("this database already holds assets: the sweep would act on them too. Use an empty one.")
    owner = User.objects.create_user(email="sweep-bench@example.com", password="bench-password-1234")
    now = timezone.now()
    data = b"x" * 256
    assets = [
        Asset(
            owner=owner,
            kind=AssetKind.SOURCE_PHOTO,
            mime="image/jpeg",
            sha256="0" * 64,
            bytes=len(data),
            download_name="photo.jpg",
            retention_class=RetentionClass.PRIVATE_UPLOAD,
            # Expired between an hour and a minute ago, as an hourly sweep finds them.
            expires_at=now - timedelta(seconds=60 + (i * 7919) % 3600),
        )
        for i in range(count)
    ]
    held = iter(assets)
    for reason, n in HELD.items():
        for _ in range(n):
            asset = next(held)
            if reason == "legal_hold":
                asset.legal_hold = True
            elif reason == "published":
                asset.published_at = now
            elif reason == "curated":
                asset.curated = True
    write = lambda asset: blob_write(asset.storage_key, data)  # noqa: E731
    if s3_client is not None:
        # Straight PUTs to the same bucket and keys: django-storages' save() goes through boto3's transfer
        # manager, several times slower for tiny files. The storage scan at the end proves the keys match.
        bucket = settings.STORAGES["default"]["OPTIONS"]["bucket_name"]
        write = lambda asset: s3_client.put_object(Bucket=bucket, Key=asset.storage_key, Body=data)  # noqa: E731
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for _ in pool.map(write, assets, chunksize=64):
            pass
    blobs_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    Asset.objects.bulk_create(assets, batch_size=2000)
    in_use_ids = Asset.objects.order_by("pk").values_list("pk", flat=True)[
        sum(n for r, n in HELD.items() if r != "in_use") : sum(HELD.values())
    ]
    job = Job.objects.create(owner=owner, kind="preview")  # queued: its inputs are in use
    job.inputs.add(*in_use_ids)
    rows_s = time.perf_counter() - t1
    return {"blobs_s": blobs_s, "rows_s": rows_s}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--storage", choices=["local", "s3"], default="s3")
    parser.add_argument("--batch-size", type=int, default=None, help="sweep batch size (default: the sweeper's)")
    parser.add_argument("--create-threads", type=int, default=16, help="threads writing the blobs beforehand")
    args = parser.parse_args()

    with Platform(db=args.db, storage=args.storage) as platform:
        from intaglio.assets.models import Asset
        from intaglio.assets.scan import storage_scan
        from intaglio.privacy import retention
        from intaglio.privacy.models import RetentionDecision

        # The blob-writing threads outnumber boto's pool (10): urllib3 would warn on every reopened connection.
        logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)
        batch_size = args.batch_size or retention.BATCH_SIZE
        for note in platform.notes:
            print(note)
        say(f"creating {args.count} expired assets with blobs …")
        client = platform._client(pool=args.create_threads) if platform.bucket else None
        made = populate(args.count, args.create_threads, client)
        print(
            f"setup (not counted): {args.count} blobs written in {made['blobs_s']:.1f} s "
            f"({args.count / made['blobs_s']:.0f}/s, {args.create_threads} threads); rows in {made['rows_s']:.1f} s"
        )

        say("sweeping …")
        t0 = time.perf_counter()
        result = retention.retention_sweep(batch_size=batch_size)
        took = time.perf_counter() - t0
        deleted = result["deleted_assets"]
        print(
            f"sweep: {took:.1f} s for {args.count} expired assets (batch {batch_size}; blobs deleted with one "
            "request per batch on S3)"
        )
        print(f"  deleted {deleted}: {deleted / took:.0f} assets/s, {deleted / took:.0f} blobs deleted/s")
        print(f"  skipped {result['skipped']}; blobs_failed {result['blobs_failed']}")
        print(
            f"  decisions recorded {result['decisions']} "
            f"(table now: {RetentionDecision.objects.filter(outcome='deleted').count()} deleted, "
            f"{RetentionDecision.objects.filter(outcome='skipped').count()} skipped)"
        )
        lag = retention.retention_lag_report(days=7)
        print(
            f"  lag p50 {lag['p50_seconds'] / 3600:.1f} h, p99 {lag['p99_seconds'] / 3600:.1f} h, "
            f"max {lag['max_seconds'] / 3600:.1f} h (expiries spread over the last hour; E5 target p99 ≤ 24 h: "
            f"{'met' if lag['within_target'] else 'missed'})"
        )

        t1 = time.perf_counter()
        again = retention.retention_sweep(batch_size=batch_size)
        print(
            f"second sweep: {time.perf_counter() - t1:.2f} s, deleted {again['deleted']}, "
            f"decisions recorded {again['decisions']}, skipped {again['skipped']}"
        )

        t2 = time.perf_counter()
        scan = storage_scan()
        print(
            f"storage scan ({time.perf_counter() - t2:.1f} s): {scan.blobs} blobs, {Asset.objects.count()} asset rows, "
            f"orphan blobs {len(scan.orphan_blobs)}, rows without blob {len(scan.missing_blobs)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
