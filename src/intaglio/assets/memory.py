"""Process memory: the image budget from settings, and giving freed memory back to the system.

glibc's malloc keeps freed memory for reuse. Two habits of image work make it keep a lot: Pillow allocates a large
image in blocks of a few megabytes, and after the first such block is freed glibc raises its threshold for
serving requests from mmap (up to 32 MB), so later blocks come from heaps that are rarely returned; and each
request thread allocates from its own arena. After a burst of big uploads a process could keep gigabytes it no
longer uses. `process_memory_setup` pins the mmap threshold (blocks of 1 MB and more are mapped and unmapped on
free), and `release_memory` trims what the heaps still hold. Both do nothing off glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import resource
import sys

from django.conf import settings

from intaglio.imaging import configure_image_memory

log = logging.getLogger("intaglio.memory")

# mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# Allocations of this size and more are mapped on their own and returned to the system when freed.
MMAP_THRESHOLD = 1024 * 1024


def _libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim  # noqa: B018 - glibc only: musl and others have no malloc_trim
        libc.mallopt  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _libc()


def process_memory_setup() -> None:
    """Sets this process's image memory budget from settings and pins glibc's mmap threshold (see module doc)."""
    configure_image_memory(settings.IMAGE_MEMORY_MB * 1024 * 1024, wait_seconds=settings.IMAGE_MEMORY_WAIT_SECONDS)
    if _LIBC is not None and "MALLOC_MMAP_THRESHOLD_" not in os.environ:  # an operator's own tuning wins
        _LIBC.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        _LIBC.mallopt(_M_TRIM_THRESHOLD, 4 * MMAP_THRESHOLD)


def release_memory() -> None:
    """Gives the free memory malloc still holds back to the system (glibc's malloc_trim); a no-op elsewhere."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def rss_bytes() -> int:
    """This process's resident memory now, in bytes (0 where /proc is missing)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def peak_rss_bytes() -> int:
    """The most this process has ever had resident, in bytes."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
