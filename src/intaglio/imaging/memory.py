"""How much memory an image takes once decoded, and a per-process budget that image work draws from.

Reached through the package: ``from intaglio.imaging import image_memory_bytes, reserve_image_memory, ...``.

Pure module: no Django, nothing from the rest of ``intaglio``.

A file's size says nothing about its decoded size: an 11 KB PNG can declare 9999 × 9999 one-bit pixels, which
Pillow holds at one byte each (100 MB) and which the pipeline then turns into RGB (Pillow keeps RGB at four bytes a
pixel: 400 MB more). So every decode is priced from its header *before* any pixel is decoded:

- `image_memory_bytes` prices a decode: width × height × (bytes per pixel of the decoded mode + bytes per pixel of
  every image or array the pipeline makes from it while the decoded one is still held).
- `image_header` reads the size and mode from a file's header (optionally after a JPEG's reduced-size draft) and
  `decode_memory_bytes` prices it in one call.
- `reserve_image_memory` holds that many bytes of the process budget while the work runs. Over the whole budget
  is refused at once (`ImageMemoryRefused`, with a sentence for people); when other threads hold the rest, the
  caller waits for them, and gives up (`ImageMemoryBusy`) after the budget's wait time. So the decoded images of a
  process never sum to more than its budget, whatever arrives in parallel.

The budget is per process. `configure_image_memory` sets it (the Django settings do, at start-up, from
``IMAGE_MEMORY_MB``). A thread that already holds a reservation may nest another without waiting: the outer one
is meant to price the whole piece of work.
"""

from __future__ import annotations

import io
import math
import re
import threading
import time
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from PIL import Image

__all__ = [
    "DEFAULT_IMAGE_MEMORY_BYTES",
    "MODE_BYTES",
    "ImageHeader",
    "ImageMemoryBudget",
    "ImageMemoryBusy",
    "ImageMemoryRefused",
    "Reservation",
    "configure_image_memory",
    "cv2_decode_bytes",
    "decode_memory_bytes",
    "human_bytes",
    "image_header",
    "image_memory_budget",
    "image_memory_bytes",
    "reserve_decode",
    "reserve_image_memory",
]

#: Default per-process budget: one 100-megapixel photo decoded and turned upright (2 × 4 bytes a pixel), with room.
DEFAULT_IMAGE_MEMORY_BYTES = 768 * 1024 * 1024

#: Bytes per pixel Pillow allocates for each mode (RGB is padded to four bytes; "1" takes a whole byte a pixel).
MODE_BYTES = {
    "1": 1,
    "L": 1,
    "P": 1,
    "I;16": 2,
    "I;16L": 2,
    "I;16B": 2,
    "I;16N": 2,
    "BGR;15": 2,
    "BGR;16": 2,
    "BGR;24": 3,
    "LA": 4,
    "La": 4,
    "PA": 4,
    "RGB": 4,
    "RGBA": 4,
    "RGBa": 4,
    "RGBX": 4,
    "CMYK": 4,
    "YCbCr": 4,
    "LAB": 4,
    "HSV": 4,
    "I": 4,
    "F": 4,
}
# numpy element types the pipelines make, by name, for `image_memory_bytes`'s ``into``.
_ARRAY_BYTES = {"uint8": 1, "uint16": 2, "float32": 4, "float64": 8, "bool": 1}
_ARRAY = re.compile(r"^(uint8|uint16|float32|float64|bool)(?:x(\d+))?$")
# Modes Pillow can hold that are not in the table: priced at the widest.
_UNKNOWN_MODE_BYTES = 8


def _per_pixel(kind: str | int) -> int:
    if isinstance(kind, int):
        if kind < 0:
            raise ValueError("bytes per pixel cannot be negative")
        return kind
    if kind in MODE_BYTES:
        return MODE_BYTES[kind]
    if match := _ARRAY.match(kind):
        return _ARRAY_BYTES[match[1]] * int(match[2] or 1)
    return _UNKNOWN_MODE_BYTES


def image_memory_bytes(width: int, height: int, mode: str, *, into: Iterable[str | int] = ()) -> int:
    """Bytes a decode of ``width`` × ``height`` pixels in ``mode`` needs, with what the pipeline makes from it.

    Parameters
    ----------
    width, height : int
        Size in pixels, as the header declares it.
    mode : str
        The Pillow mode the decoder produces (``"1"``, ``"L"``, ``"RGB"``, ``"I;16"``, ...); see `MODE_BYTES`.
        Unknown modes are priced at 8 bytes a pixel.
    into : iterable of str or int, optional
        Every full-size image or array held at the same time as the decoded one: Pillow modes (``"RGB"``),
        numpy element types with an optional channel count (``"float32"``, ``"uint8x3"``), or bytes per pixel.

    Returns
    -------
    int
        The estimate in bytes.

    Raises
    ------
    ValueError
        If a size is negative.
    """
    if width < 0 or height < 0:
        raise ValueError("an image size cannot be negative")
    per_pixel = _per_pixel(mode) + sum(_per_pixel(kind) for kind in into)
    return int(width) * int(height) * per_pixel


def human_bytes(n: int) -> str:
    """A byte count as people read it: ``"540 MB"``, ``"2.3 GB"``.

    Parameters
    ----------
    n : int
        Bytes.

    Returns
    -------
    str
        Decimal units (MB = 10⁶ bytes), at most one decimal for GB.
    """
    if n >= 1_000_000_000:
        return f"{n / 1e9:.1f} GB".replace(".0 GB", " GB")
    if n >= 1_000_000:
        return f"{n / 1e6:.0f} MB"
    if n >= 1000:
        return f"{round(n / 1e3)} KB"
    return f"{n} byte{'' if n == 1 else 's'}"


class ImageMemoryRefused(Exception):
    """An image whose decode would need more memory than the whole budget allows.

    Parameters
    ----------
    needed : int
        The estimate, in bytes.
    limit : int
        The budget, in bytes.

    Attributes
    ----------
    needed, limit
        The parameters, as given.
    code : str
        ``"too_much_memory"``.
    message : str
        A sentence for the person who sent the image; also the exception's ``str()``.
    """

    code = "too_much_memory"

    def __init__(self, needed: int, limit: int) -> None:
        self.needed, self.limit = needed, limit
        self.message = (
            f"This image would need about {human_bytes(needed)} of memory to open; the limit is "
            f"{human_bytes(limit)}. Send a smaller image (fewer pixels)."
        )
        super().__init__(self.message)


class ImageMemoryBusy(Exception):
    """The budget stayed spent by other work for longer than the caller may wait.

    Parameters
    ----------
    needed : int
        The bytes asked for.
    waited : float
        Seconds waited.

    Attributes
    ----------
    needed, waited
        The parameters, as given.
    message : str
        A sentence for people; also the exception's ``str()``.
    """

    def __init__(self, needed: int, waited: float) -> None:
        self.needed, self.waited = needed, waited
        self.message = "The server is busy opening other large images. Try again in a minute."
        super().__init__(self.message)


class ImageMemoryBudget:
    """A pool of bytes that decodes draw from; holders beyond it wait (see the module docstring).

    Parameters
    ----------
    limit : int
        Bytes in the pool; also the most any one reservation may ask for.
    wait_seconds : float, optional
        How long `reserve` waits for others to give bytes back before raising `ImageMemoryBusy` (default 120).

    Raises
    ------
    ValueError
        If `limit` is not positive or `wait_seconds` is negative.
    """

    def __init__(self, limit: int, *, wait_seconds: float = 120.0) -> None:
        if limit <= 0 or wait_seconds < 0:
            raise ValueError("an image memory budget needs a positive limit and a wait of 0 seconds or more")
        self.limit = int(limit)
        self.wait_seconds = float(wait_seconds)
        self._held = 0
        self._peak = 0
        self._changed = threading.Condition()
        self._local = threading.local()  # the reservation this thread holds, if any

    @property
    def held(self) -> int:
        """Bytes reserved right now."""
        return self._held

    @property
    def peak(self) -> int:
        """Most bytes ever reserved at once (for tests and benches)."""
        return self._peak

    def check(self, nbytes: int) -> None:
        """Raise `ImageMemoryRefused` if ``nbytes`` is over the whole budget; never waits.

        Parameters
        ----------
        nbytes : int
            An estimate from `image_memory_bytes`.
        """
        if nbytes > self.limit:
            raise ImageMemoryRefused(nbytes, self.limit)

    def _take(self, nbytes: int) -> None:
        started = time.monotonic()
        with self._changed:
            while self._held + nbytes > self.limit:
                left = self.wait_seconds - (time.monotonic() - started)
                if left <= 0:
                    raise ImageMemoryBusy(nbytes, time.monotonic() - started)
                self._changed.wait(left)
            self._held += nbytes
            self._peak = max(self._peak, self._held)

    def _give(self, nbytes: int) -> None:
        with self._changed:
            self._held -= nbytes
            self._changed.notify_all()

    @contextmanager
    def reserve(self, nbytes: int) -> Iterator[Reservation]:
        """Hold ``nbytes`` of the budget for the ``with`` block; wait while others hold too much of it.

        Parameters
        ----------
        nbytes : int
            An estimate from `image_memory_bytes`.

        Yields
        ------
        Reservation
            What is held; its `Reservation.grow` asks for more when the work turns out bigger. Inside another
            reservation of the same thread this is the outer one, unchanged: it already prices the work.

        Raises
        ------
        ImageMemoryRefused
            At once, if ``nbytes`` is over the whole budget.
        ImageMemoryBusy
            If the bytes did not come free within the budget's wait time.
        """
        nbytes = max(0, int(nbytes))
        self.check(nbytes)
        outer = getattr(self._local, "reservation", None)
        if outer is not None:
            yield outer
            return
        self._take(nbytes)
        reservation = Reservation(self, nbytes)
        self._local.reservation = reservation
        try:
            yield reservation
        finally:
            self._local.reservation = None
            self._give(reservation.nbytes)


class Reservation:
    """Bytes held from an `ImageMemoryBudget` by one ``with`` block (see `ImageMemoryBudget.reserve`).

    Parameters
    ----------
    budget : ImageMemoryBudget
        Where the bytes come from.
    nbytes : int
        Bytes held.

    Attributes
    ----------
    nbytes : int
        Bytes held now.
    """

    def __init__(self, budget: ImageMemoryBudget, nbytes: int) -> None:
        self._budget = budget
        self.nbytes = nbytes

    def grow(self, total: int) -> None:
        """Hold ``total`` bytes in all (waiting for the difference as `ImageMemoryBudget.reserve` waits).

        Parameters
        ----------
        total : int
            The new estimate for the whole piece of work; a smaller one than held changes nothing.

        Raises
        ------
        ImageMemoryRefused
            If ``total`` is over the whole budget.
        ImageMemoryBusy
            If the difference did not come free in time.
        """
        total = int(total)
        self._budget.check(total)
        if total > self.nbytes:
            self._budget._take(total - self.nbytes)
            self.nbytes = total


_BUDGET = ImageMemoryBudget(DEFAULT_IMAGE_MEMORY_BYTES)


def configure_image_memory(limit: int, *, wait_seconds: float = 120.0) -> ImageMemoryBudget:
    """Replace this process's budget (call it at start-up, before image work begins).

    Parameters
    ----------
    limit : int
        Bytes decoded images of this process may hold at once.
    wait_seconds : float, optional
        How long a decode waits for room before `ImageMemoryBusy` (default 120).

    Returns
    -------
    ImageMemoryBudget
        The new budget.
    """
    global _BUDGET
    _BUDGET = ImageMemoryBudget(limit, wait_seconds=wait_seconds)
    return _BUDGET


def image_memory_budget() -> ImageMemoryBudget:
    """This process's budget (see `configure_image_memory`).

    Returns
    -------
    ImageMemoryBudget
        The budget every `reserve_image_memory` draws from.
    """
    return _BUDGET


def reserve_image_memory(nbytes: int):
    """Hold ``nbytes`` of this process's budget for a ``with`` block (see `ImageMemoryBudget.reserve`).

    Parameters
    ----------
    nbytes : int
        An estimate from `image_memory_bytes` or `decode_memory_bytes`.

    Returns
    -------
    contextlib.AbstractContextManager
        Enter it around the decode and everything made from the decoded pixels.
    """
    return _BUDGET.reserve(nbytes)


@dataclass(frozen=True)
class ImageHeader:
    """What a file's header says, before any pixel is decoded.

    Parameters
    ----------
    width, height : int
        Size in pixels of what a decode produces (after the reduced-size draft, when one was asked for).
    mode : str
        Pillow mode of the decoded pixels.
    format : str
        Pillow's format name (``"JPEG"``, ``"PNG"``, ...).
    """

    width: int
    height: int
    mode: str
    format: str


def image_header(data: bytes, *, draft: tuple[str, tuple[int, int]] | None = None) -> ImageHeader:
    """Read size and mode from ``data``'s header without decoding pixels.

    Parameters
    ----------
    data : bytes
        An encoded image.
    draft : (str, (int, int)) or None, optional
        Mode and size to pass to Pillow's ``draft`` first: a JPEG then reports the reduced size (1/2, 1/4 or
        1/8) its decode will have. Other formats ignore it.

    Returns
    -------
    ImageHeader
        The decode's size and mode.

    Raises
    ------
    ImageMemoryRefused
        When the header declares more pixels than Pillow agrees to open at all (priced at four bytes a pixel).
    PIL.UnidentifiedImageError, OSError, ValueError
        If ``data`` is not an image Pillow can open.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's decompression-bomb warning: this module prices the image
            with Image.open(io.BytesIO(data)) as image:
                if draft is not None and image.format == "JPEG":
                    image.draft(*draft)
                return ImageHeader(image.size[0], image.size[1], image.mode, image.format or "")
    except Image.DecompressionBombError as exc:
        match = re.search(r"\((\d+) pixels\)", str(exc))
        pixels = int(match[1]) if match else 2**31
        raise ImageMemoryRefused(pixels * MODE_BYTES["RGB"], _BUDGET.limit) from exc


def decode_memory_bytes(
    data: bytes, *, into: Iterable[str | int] = (), draft: tuple[str, tuple[int, int]] | None = None
) -> int:
    """`image_memory_bytes` of ``data`` from its header: what decoding it, and making ``into`` from it, costs.

    Parameters
    ----------
    data : bytes
        An encoded image.
    into : iterable of str or int, optional
        As for `image_memory_bytes`.
    draft : (str, (int, int)) or None, optional
        As for `image_header`.

    Returns
    -------
    int
        The estimate in bytes.

    Raises
    ------
    ImageMemoryRefused, PIL.UnidentifiedImageError, OSError, ValueError
        As `image_header` does.
    """
    header = image_header(data, draft=draft)
    return image_memory_bytes(header.width, header.height, header.mode, into=into)


@contextmanager
def reserve_decode(
    data: bytes, *, into: Iterable[str | int] = (), draft: tuple[str, tuple[int, int]] | None = None
) -> Iterator[Reservation]:
    """Price ``data`` from its header (`decode_memory_bytes`) and hold that much of the budget for the block.

    Parameters
    ----------
    data : bytes
        An encoded image, about to be decoded inside the ``with`` block.
    into : iterable of str or int, optional
        What the block makes from the decoded pixels, as for `image_memory_bytes`.
    draft : (str, (int, int)) or None, optional
        The draft the block asks of a JPEG, as for `image_header`.

    Yields
    ------
    Reservation
        What is held.

    Raises
    ------
    ImageMemoryRefused, ImageMemoryBusy
        As `ImageMemoryBudget.reserve` does.
    PIL.UnidentifiedImageError, OSError, ValueError
        If ``data``'s header cannot be read.
    """
    with reserve_image_memory(decode_memory_bytes(data, into=into, draft=draft)) as reservation:
        yield reservation


def cv2_decode_bytes(size: tuple[int, int], image_format: str | None, reduced: float = 1.0) -> int:
    """What ``cv2.imdecode`` to BGR and one ``cv2.cvtColor`` copy need for an image of ``size`` (width, height).

    OpenCV decodes a JPEG straight to 1/2 or 1/4 size with ``IMREAD_REDUCED_COLOR_*``; any other format is
    decoded at full size and then shrunk.

    Parameters
    ----------
    size : (int, int)
        Width and height from the header.
    image_format : str or None
        Pillow's format name (``"JPEG"``, ``"PNG"``, ...); None when unknown (priced as a full-size decode).
    reduced : float, optional
        The reduction asked for (1, 2 or 4).

    Returns
    -------
    int
        The estimate in bytes.
    """
    width, height = size
    small = image_memory_bytes(math.ceil(width / reduced), math.ceil(height / reduced), "uint8x3")
    full = image_memory_bytes(width, height, "uint8x3") if image_format != "JPEG" else small
    return full + 2 * small
