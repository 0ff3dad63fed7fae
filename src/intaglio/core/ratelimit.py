"""Exact rate limits: fixed-window counters whose increment is atomic across every thread and process.

One call both counts and answers (`rate_hit`), so there is no read-then-write gap for concurrent requests to slip
through. The store follows the deployment (settings.RATE_LIMIT_STORE):

- "local" (the embedded default, SQLite): a small memory-mapped table in the data directory, locked with `fcntl`
  for processes and a mutex for threads. Every process on the machine shares it and no request writes to the
  database.
- "database" (PostgreSQL): one `INSERT … ON CONFLICT DO UPDATE … RETURNING` per hit on a counter table, shared
  by every web process on every machine.
"""

from __future__ import annotations

import fcntl
import hashlib
import math
import mmap
import os
import random
import struct
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection

# A slot: key hash, window number, count, window end (epoch seconds).
_SLOT = struct.Struct("<QqqQ")
# How many neighbouring slots a key may land in before the one whose window ended longest ago is reused.
_PROBE = 16


@dataclass(frozen=True)
class RateHit:
    """One counted hit: how many hits the key has had in the current window, this one included."""

    count: int
    limit: int
    reset_at: float  # epoch seconds when the window ends

    @property
    def allowed(self) -> bool:
        return self.count <= self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    def retry_after(self) -> int:
        """Whole seconds until the window ends (at least 1)."""
        return max(1, math.ceil(self.reset_at - _clock()))


def _clock() -> float:
    return time.time()


def _key_hash(key: str) -> int:
    # 64 bits: a collision between two live keys is vanishingly unlikely; 0 marks a free slot.
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little") or 1


class LocalCounterStore:
    """Counters in a memory-mapped file, exact for every thread and process of one machine."""

    def __init__(self, path: Path, slots: int):
        self.path = Path(path)
        self.slots = slots
        self._thread_lock = threading.Lock()
        self._pid = None
        self._fd = -1
        self._map = None

    def _open(self) -> None:
        # Opened per process: a forked worker maps the same file but needs its own descriptor for its locks.
        if self._pid == os.getpid():
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        size = self.slots * _SLOT.size
        if os.fstat(fd).st_size < size:
            fcntl.lockf(fd, fcntl.LOCK_EX)
            try:
                if os.fstat(fd).st_size < size:
                    os.ftruncate(fd, size)
            finally:
                fcntl.lockf(fd, fcntl.LOCK_UN)
        self._fd, self._map, self._pid = fd, mmap.mmap(fd, size), os.getpid()

    def hit(self, key: str, *, window: int, amount: int = 1) -> tuple[int, float]:
        now = _clock()
        number = int(now // window)
        window_end = (number + 1) * window
        wanted = _key_hash(key)
        with self._thread_lock:  # fcntl locks belong to the process, so threads of one process queue here first
            self._open()
            fcntl.lockf(self._fd, fcntl.LOCK_EX)
            try:
                start = wanted % self.slots
                chosen, oldest_end = None, None
                for step in range(_PROBE):
                    offset = ((start + step) % self.slots) * _SLOT.size
                    slot_key, slot_number, slot_count, slot_end = _SLOT.unpack_from(self._map, offset)
                    if slot_key == wanted:
                        chosen = offset
                        count = slot_count + amount if slot_number == number else amount
                        break
                    if oldest_end is None or slot_end < oldest_end:
                        chosen, oldest_end, count = offset, slot_end, amount
                _SLOT.pack_into(self._map, chosen, wanted, number, count, window_end)
            finally:
                fcntl.lockf(self._fd, fcntl.LOCK_UN)
        return count, float(window_end)

    def reset(self, key: str) -> None:
        wanted = _key_hash(key)
        with self._thread_lock:
            self._open()
            fcntl.lockf(self._fd, fcntl.LOCK_EX)
            try:
                start = wanted % self.slots
                for step in range(_PROBE):
                    offset = ((start + step) % self.slots) * _SLOT.size
                    if _SLOT.unpack_from(self._map, offset)[0] == wanted:
                        _SLOT.pack_into(self._map, offset, 0, 0, 0, 0)
            finally:
                fcntl.lockf(self._fd, fcntl.LOCK_UN)

    def clear(self) -> None:
        with self._thread_lock:
            self._open()
            fcntl.lockf(self._fd, fcntl.LOCK_EX)
            try:
                self._map[:] = bytes(len(self._map))
            finally:
                fcntl.lockf(self._fd, fcntl.LOCK_UN)


class DatabaseCounterStore:
    """Counters in the `core_ratecounter` table (PostgreSQL): one atomic upsert per hit, shared by every process."""

    def hit(self, key: str, *, window: int, amount: int = 1) -> tuple[int, float]:
        now = _clock()
        number = int(now // window)
        window_end = (number + 1) * window
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO core_ratecounter (key, window_number, count, window_end) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (key) DO UPDATE SET "
                "count = CASE WHEN core_ratecounter.window_number = EXCLUDED.window_number "
                "THEN core_ratecounter.count + EXCLUDED.count ELSE EXCLUDED.count END, "
                "window_number = EXCLUDED.window_number, window_end = EXCLUDED.window_end "
                "RETURNING count",
                [key, number, amount, window_end],
            )
            count = cursor.fetchone()[0]
            # Ended windows are swept now and then, so the table stays the size of the live keys.
            if random.random() < 0.001:  # noqa: S311 - sampling, not security
                cursor.execute("DELETE FROM core_ratecounter WHERE window_end < %s", [int(now)])
        return count, float(window_end)

    def reset(self, key: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM core_ratecounter WHERE key = %s", [key])

    def clear(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM core_ratecounter")


_stores: dict[tuple, LocalCounterStore | DatabaseCounterStore] = {}
_stores_lock = threading.Lock()


def rate_store() -> LocalCounterStore | DatabaseCounterStore:
    """The counter store the settings choose (one instance per configuration, shared by the process's threads)."""
    kind = settings.RATE_LIMIT_STORE
    if kind == "auto":
        kind = "database" if connection.vendor == "postgresql" else "local"
    config = (kind, str(settings.RATE_LIMIT_FILE), settings.RATE_LIMIT_SLOTS)
    store = _stores.get(config)
    if store is None:
        with _stores_lock:
            store = _stores.get(config)
            if store is None:
                if kind == "database":
                    store = DatabaseCounterStore()
                elif kind == "local":
                    store = LocalCounterStore(Path(settings.RATE_LIMIT_FILE), settings.RATE_LIMIT_SLOTS)
                else:
                    raise ValueError(f"RATE_LIMIT_STORE must be auto, local or database, not {kind!r}")
                _stores[config] = store
    return store


def rate_hit(key: str, *, limit: int, window: int) -> RateHit:
    """Counts one hit on `key` in the current `window`-second window and says whether it is within `limit`.

    Parameters
    ----------
    key : str
        What is limited, e.g. ``"api:token:<digest>"``; keep personal data out of it (use digests).
    limit : int
        Hits allowed per window.
    window : int
        Window length in seconds; windows start at multiples of it (epoch time), like GitHub's and Stripe's.

    Returns
    -------
    RateHit
        The count including this hit, the limit and when the window ends. Refused hits are counted too.
    """
    count, reset_at = rate_store().hit(key, window=window)
    return RateHit(count=count, limit=limit, reset_at=reset_at)


def rate_reset(key: str) -> None:
    """Forgets the key's count (e.g. a successful sign-in clears that client's failures)."""
    rate_store().reset(key)


def rate_clear() -> None:
    """Forgets every count (tests and `intaglio` maintenance)."""
    rate_store().clear()


def rate_parse(rate: str) -> tuple[int, int]:
    """``"600/m"`` → (600, 60). Periods: s, m, h, d (or sec, min, hour, day)."""
    count, _, period = rate.partition("/")
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}.get(period.strip()[:1].lower())
    if not seconds or not count.strip().isdigit():
        raise ValueError(f"a rate looks like 600/m, not {rate!r}")
    return int(count), seconds
