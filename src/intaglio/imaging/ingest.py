"""Turn untrusted upload bytes into a safe, metadata-free image.

Reached through the package: ``from intaglio.imaging import ingest_image, IngestError, IngestLimits``.

Pure module: no Django, nothing from ``intaglio`` outside ``intaglio.imaging``. The contract (see DESIGN.md,
"Security defaults"):

1. **Bytes are capped before buffering.** A stream is read for at most ``max_bytes + 1`` bytes; one byte too many
   is ``too_large`` and the rest is never read.
2. **The type comes from magic bytes and is proved by a decode**, never from a file name or a client's
   Content-Type. Only the sniffed format's Pillow plugin may parse the file. Common non-images (HTML, SVG/XML,
   PDF, ZIP, GIF, plain text, ...) are named in the error message so the user knows what went wrong.
3. **The pixel count is capped from the header, before the full decode.** Pillow's own decompression-bomb check
   is pinned to ``limits.max_pixels`` (not the global default) while we decode: over the limit is
   ``too_many_pixels``; over twice the limit (Pillow's DecompressionBombError) is ``decompression_bomb``.
4. **Truncated or damaged files are rejected** (``corrupt_image``); ``ImageFile.LOAD_TRUNCATED_IMAGES`` is pinned
   to False during the decode, so they are never silently padded.
5. **Orientation is applied and every metadata block is dropped by re-encoding** from pixels alone: EXIF (GPS
   included), XMP, IPTC/Photoshop, comments, text chunks. A non-sRGB ICC profile is converted to sRGB and no
   profile is embedded in the output (untagged = sRGB).

Decisions:

- **Output format.** PNG when the source is PNG or the image has real (not fully opaque) alpha: lossless, alpha
  kept, mode RGBA or RGB. Everything else (JPEG, HEIC, TIFF, WebP without alpha) becomes JPEG, quality 92,
  4:4:4 chroma (no subsampling: engraving and jewellery edges suffer from 4:2:0), mode RGB. WebP is accepted as
  input but never produced. Output mode is always RGB or RGBA; greyscale sources come out as grey RGB.
- **Deep images.** 16-bit (``I;16*``, ``I``) data are scaled to 8 bits (``v / 257``, not clipped); float data are
  taken as 0..1 when their maximum is at most 1, else clipped to 0..255.
- **Multi-frame files** (animated WebP/PNG, multipage TIFF, MPO): only the first frame is kept.
- **Polyglots.** A valid JPEG with a ZIP (or anything) appended is accepted as the JPEG: the decoder stops at the
  image data and the re-encode writes pixels only, so the trailing bytes are gone. A file that *starts* as a
  ZIP is rejected as a ZIP.
- **Memory.** Besides the pixel count, the memory the whole call needs is priced from the header before decoding
  (`ingest_memory_bytes`: decoded mode, the 8-bit, RGB, sRGB and upright copies, the encoder's buffer; each stage
  frees the one before it) and held from the process budget of ``imaging.memory`` while the call runs. Over the
  budget is ``too_much_memory``; a budget spent by parallel uploads for longer than its wait is ``busy``.
- **Concurrency.** Pillow's limits are module globals. We set them under a module lock for the header read and
  the first-frame load and restore them afterwards, so decodes are serialised within one process; conversion and
  encoding run outside the lock (bounded by the memory budget).
"""

from __future__ import annotations

import hashlib
import io
import re
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import BinaryIO

import numpy as np
import pillow_heif
from PIL import Image, ImageCms, ImageFile

from intaglio.imaging.memory import ImageMemoryBusy, ImageMemoryRefused, image_memory_bytes, reserve_image_memory

pillow_heif.register_heif_opener()

__all__ = [
    "ACCEPTED_FORMATS",
    "ACCEPTED_HUMAN",
    "IngestError",
    "IngestLimits",
    "IngestedImage",
    "encode_jpeg",
    "file_size_label",
    "identify_non_image",
    "ingest_image",
    "ingest_memory_bytes",
    "sniff_format",
]

#: The formats `sniff_format` names and `ingest_image` accepts (lower-case, as in ``IngestedImage.source_format``).
ACCEPTED_FORMATS = ("jpeg", "png", "webp", "heif", "tiff")
#: The same list for people, for upload forms and error messages.
ACCEPTED_HUMAN = "JPEG, PNG, WebP, HEIC or TIFF"
_UPLOAD_HINT = f"Upload a {ACCEPTED_HUMAN} image."

# sniffed format -> the only Pillow plugin allowed to parse it
_PIL_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "heif": "HEIF", "tiff": "TIFF"}

JPEG_QUALITY = 92

# ISO-BMFF major/compatible brands that mean HEIF/HEIC stills or sequences.
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})

_DECODE_LOCK = threading.Lock()


@dataclass(frozen=True)
class IngestLimits:
    """How much an upload may weigh and decode to; `ingest_image` refuses anything over either limit.

    Parameters
    ----------
    max_bytes : int, optional
        Largest accepted file size in bytes (default 40 MiB). A stream is never read past ``max_bytes + 1``.
    max_pixels : int, optional
        Largest accepted ``width * height`` (default 100 megapixels), checked from the header before decoding.

    Raises
    ------
    ValueError
        If either limit is not positive.
    """

    max_bytes: int = 40 * 1024 * 1024
    max_pixels: int = 100_000_000

    def __post_init__(self) -> None:
        if self.max_bytes <= 0 or self.max_pixels <= 0:
            raise ValueError("IngestLimits need positive max_bytes and max_pixels")


class IngestError(Exception):
    """A rejected upload. ``code`` is stable and machine-readable; ``message`` is for the person who uploaded.

    ``detail`` is internal (exception text, sizes) for logs, never shown to users. ``detected`` names what the
    file looked like when it was rejected as the wrong type (e.g. ``"html"``, ``"gif"``).

    Parameters
    ----------
    code : str
        Why the upload was refused: ``"empty_file"``, ``"too_large"``, ``"unsupported_type"``,
        ``"too_many_pixels"``, ``"too_much_memory"``, ``"decompression_bomb"``, ``"corrupt_image"`` or ``"busy"``
        (the process's image memory stayed in use by other uploads for too long; worth trying again).
    message : str
        A sentence for the person who uploaded; also the exception's ``str()``.
    detail : str, optional
        Internal detail for logs, never shown to users.
    detected : str or None, optional
        For ``"unsupported_type"``: what the file looked like (a key of `identify_non_image`'s table), if known.

    Attributes
    ----------
    code, message, detail, detected
        The parameters, as given.
    """

    def __init__(self, code: str, message: str, *, detail: str = "", detected: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail
        self.detected = detected

    def __repr__(self) -> str:
        return f"IngestError(code={self.code!r}, message={self.message!r})"


@dataclass(frozen=True)
class IngestedImage:
    """A clean upload, as returned by `ingest_image`: re-encoded from pixels, oriented, sRGB, no metadata.

    Parameters
    ----------
    data : bytes
        The re-encoded image (left out of ``repr``).
    format : str
        ``"jpeg"`` or ``"png"`` (see the module docstring; WebP is never produced).
    mime : str
        ``"image/jpeg"`` or ``"image/png"``.
    width, height : int
        Size in pixels, after the EXIF orientation was applied.
    source_format : str
        The uploaded format, one of `ACCEPTED_FORMATS`.
    sha256 : str
        Hex SHA-256 of `data`.
    """

    data: bytes = field(repr=False)
    format: str  # "jpeg" | "png"  (see module docstring; "webp" is never produced)
    mime: str
    width: int
    height: int
    source_format: str  # "jpeg" | "png" | "webp" | "heif" | "tiff"
    sha256: str


# --------------------------------------------------------------------------------------------------- sniffing


def sniff_format(head: bytes) -> str | None:
    """The accepted image format named by the magic bytes at the start of ``head``, or None.

    Only the magic bytes are read: a match does not prove the file decodes (`ingest_image` proves that).

    Parameters
    ----------
    head : bytes
        The first bytes of a file; 64 are enough (more are ignored).

    Returns
    -------
    str or None
        One of `ACCEPTED_FORMATS`, or None when the bytes name none of them (AVIF is not HEIF here).
    """
    head = bytes(head[:64])
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if _isobmff_brands(head) & _HEIF_BRANDS and not _is_avif(head):
        return "heif"
    return None


def _isobmff_brands(head: bytes) -> set[bytes]:
    """Major and compatible brands of an ISO-BMFF ``ftyp`` box at offset 0 (within ``head``)."""
    if len(head) < 16 or head[4:8] != b"ftyp":
        return set()
    box_size = int.from_bytes(head[:4], "big")
    end = min(box_size, len(head)) if box_size >= 16 else 16
    brands = {head[8:12]}
    brands.update(head[i : i + 4] for i in range(16, end - 3, 4))
    return brands


def _is_avif(head: bytes) -> bool:
    return len(head) >= 12 and head[8:12] in _AVIF_BRANDS


_NON_IMAGE_LABELS = {
    "html": "an HTML document",
    "svg": "an SVG drawing",
    "xml": "an XML document",
    "pdf": "a PDF document",
    "zip": "a ZIP archive (or an Office document)",
    "gzip": "a gzip archive",
    "rar": "a RAR archive",
    "7z": "a 7-Zip archive",
    "gif": "a GIF image",
    "bmp": "a BMP image",
    "ico": "an icon file",
    "psd": "a Photoshop document",
    "avif": "an AVIF image",
    "jxl": "a JPEG XL image",
    "exe": "a program",
    "mp4": "a video",
    "text": "a plain-text file",
}


def identify_non_image(head: bytes) -> str | None:
    """Name a common non-accepted file type from its first bytes (key of the labels table), or None.

    Used to tell the user what they uploaded instead of an image; call it after `sniff_format` returned None.

    Parameters
    ----------
    head : bytes
        The first bytes of a file; 4096 are enough (more are ignored).

    Returns
    -------
    str or None
        ``"html"``, ``"svg"``, ``"xml"``, ``"pdf"``, ``"zip"``, ``"gzip"``, ``"rar"``, ``"7z"``, ``"gif"``,
        ``"bmp"``, ``"ico"``, ``"psd"``, ``"avif"``, ``"jxl"``, ``"exe"``, ``"mp4"`` or ``"text"``; None for
        unrecognised binary data.
    """
    head = bytes(head[:4096])
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return "zip"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"Rar!\x1a\x07"):
        return "rar"
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "7z"
    if head.startswith(b"BM") and len(head) >= 14:
        return "bmp"
    if head.startswith(b"\x00\x00\x01\x00"):
        return "ico"
    if head.startswith(b"8BPS"):
        return "psd"
    if head.startswith((b"\xff\x0a", b"\x00\x00\x00\x0cJXL \r\n\x87\n")):
        return "jxl"
    if head.startswith((b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe")):
        return "exe"
    if _is_avif(head) and head[4:8] == b"ftyp":
        return "avif"
    if head[4:8] == b"ftyp":
        return "mp4"
    text = _as_text(head)
    if text is None:
        return None
    lowered = text.lstrip().lower()
    if lowered.startswith(("<!doctype html", "<html", "<head", "<body", "<script", "<meta", "<title", "<iframe")):
        return "html"
    if "<svg" in lowered[:2048] and (lowered.startswith(("<svg", "<?xml", "<!doctype svg", "<!--"))):
        return "svg"
    if lowered.startswith("<?xml"):
        return "xml"
    if "<html" in lowered[:1024]:
        return "html"
    return "text"


def _as_text(head: bytes) -> str | None:
    """``head`` as text if it plausibly is text (UTF-8/UTF-16 with BOM, printable), else None."""
    if not head:
        return None
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return head.decode("utf-16")
        except UnicodeDecodeError:
            return None
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a multi-byte character cut at the end of the sample
            return None
        text = head[: exc.start].decode("utf-8")
    if not text:
        return None
    printable = sum(1 for ch in text if ch.isprintable() or ch in "\t\r\n\f")
    return text if printable / len(text) > 0.95 else None


# --------------------------------------------------------------------------------------------------- reading


def file_size_label(n: int) -> str:
    """A file's size as people read it: "1 byte", "512 bytes", "12 KB", "1.5 MB", "40 MB" (1 KB = 1024 bytes, as
    the pages' sizes); under 1 KB always in bytes, never rounded up to "1 KB"."""
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} byte{'' if n == 1 else 's'}"


def _read_capped(data: bytes | bytearray | memoryview | BinaryIO, max_bytes: int) -> bytes:
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        if len(raw) > max_bytes:
            raise IngestError(
                "too_large",
                f"This file is {file_size_label(len(raw))}; the limit is {file_size_label(max_bytes)}.",
                detail=f"{len(raw)} > {max_bytes} bytes",
            )
        return raw
    if not hasattr(data, "read"):
        raise TypeError(f"ingest_image needs bytes or a binary stream, not {type(data).__name__}")
    chunks: list[bytes] = []
    remaining = max_bytes + 1
    while remaining > 0:
        chunk = data.read(remaining)
        if not chunk:
            break
        if not isinstance(chunk, bytes | bytearray):
            raise TypeError("ingest_image needs a binary stream (read() returned text)")
        chunks.append(bytes(chunk))
        remaining -= len(chunk)
    raw = b"".join(chunks)
    if len(raw) > max_bytes:
        raise IngestError(
            "too_large",
            f"This file is larger than the {file_size_label(max_bytes)} limit.",
            detail=f"stream exceeded {max_bytes} bytes",
        )
    return raw


# --------------------------------------------------------------------------------------------------- decoding


def _corrupt(source_format: str, exc: BaseException) -> IngestError:
    text = str(exc)
    name = {"heif": "HEIC"}.get(source_format, source_format.upper())
    if "truncated" in text.lower() or isinstance(exc, EOFError):
        message = f"This {name} file ends early: it looks truncated or damaged. Try uploading it again."
    else:
        message = f"This file starts like a {name} image but could not be decoded: it looks damaged."
    return IngestError("corrupt_image", message, detail=f"{type(exc).__name__}: {text}")


def _too_many_pixels(size: tuple[int, int] | None, limits: IngestLimits, detail: str = "") -> IngestError:
    if size:
        dims = f" ({size[0]} × {size[1]} pixels)"
    elif match := re.search(r"\((\d+) pixels\)", detail):  # Pillow's warning names the count, not the size
        dims = f" ({int(match[1]) / 1_000_000:.4g} megapixels)"
    else:
        dims = ""
    return IngestError(
        "too_many_pixels",
        f"This image is too large{dims}; the limit is {limits.max_pixels / 1_000_000:g} megapixels. "
        "Resize it and upload it again.",
        detail=detail,
    )


@contextmanager
def _decoder_errors(source_format: str, limits: IngestLimits, size: list) -> Iterator[None]:
    """Pillow's limits pinned for the block, under the module lock, and its failures turned into IngestErrors."""
    with _DECODE_LOCK:
        saved = Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES
        Image.MAX_IMAGE_PIXELS = limits.max_pixels
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # Pillow's chatter about corrupt EXIF and the like
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                yield
        except IngestError:
            raise
        except Image.DecompressionBombError as exc:
            raise IngestError(
                "decompression_bomb",
                "This image declares far more pixels than it could hold "
                f"(over {2 * limits.max_pixels / 1_000_000:g} megapixels). It was refused as unsafe.",
                detail=str(exc),
            ) from exc
        except Image.DecompressionBombWarning as exc:
            raise _too_many_pixels(tuple(size) or None, limits, str(exc)) from exc
        except MemoryError:
            raise
        except ValueError as exc:
            if "Decompressed data too large" in str(exc):  # PNG text/ICC chunk bombs
                raise IngestError(
                    "decompression_bomb",
                    "This image contains a compressed block that expands to an unsafe size. It was refused.",
                    detail=str(exc),
                ) from exc
            raise _corrupt(source_format, exc) from exc
        except Exception as exc:  # any decoder failure on untrusted bytes means "not a valid image"
            raise _corrupt(source_format, exc) from exc
        finally:
            Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES = saved


def _open_header(raw: bytes, source_format: str, limits: IngestLimits) -> Image.Image:
    """Open the file (header only) and check its pixel count; no pixel is decoded yet."""
    size: list[int] = []
    with _decoder_errors(source_format, limits, size):
        im = Image.open(io.BytesIO(raw), formats=[_PIL_FORMATS[source_format]])
        size[:] = im.size
        if im.size[0] <= 0 or im.size[1] <= 0:
            raise IngestError("corrupt_image", "This image has no pixels.", detail=f"size {im.size}")
        if im.size[0] * im.size[1] > limits.max_pixels:  # header size, before any pixel is decoded
            im.close()
            raise _too_many_pixels(im.size, limits, "header check")
        return im


def _load(im: Image.Image, source_format: str, limits: IngestLimits) -> int:
    """Decode the first frame of an image `_open_header` opened; returns its EXIF orientation (1..8)."""
    with _decoder_errors(source_format, limits, list(im.size)):
        im.load()  # first frame only; later frames of animations / multipage files are never decoded
        return _orientation(im)


def _orientation_known(im: Image.Image) -> int | None:
    """The EXIF orientation if the header already holds it (reading it must not decode pixels), else None."""
    if im.format == "PNG" and "exif" not in im.info:
        return None  # Pillow would decode the whole image to look for an eXIf chunk after the pixels
    return _orientation(im)


def ingest_memory_bytes(
    width: int, height: int, mode: str, *, has_icc: bool = False, transposes: bool = True, source_bytes: int = 0
) -> int:
    """Peak memory of `ingest_image` for a decode of ``width`` × ``height`` pixels in ``mode``.

    The pipeline keeps at most two full-size images alive at once (each stage frees the one before it): the
    decoded pixels, the 8-bit copy of deep data, the RGB/RGBA conversion, the sRGB conversion of an embedded
    profile, the upright copy, and the encoder's buffer (about a byte a pixel).

    Parameters
    ----------
    width, height : int
        Size from the header.
    mode : str
        Pillow mode of the decoded pixels.
    has_icc : bool, optional
        The file embeds a colour profile (one more conversion may be needed).
    transposes : bool, optional
        The EXIF orientation turns the image (or is not known before decoding).
    source_bytes : int, optional
        Size of the file: it is held, with the encoded output, for the whole call.

    Returns
    -------
    int
        The estimate in bytes.
    """
    stages = [mode]
    if mode.startswith("I") or mode == "F":
        stages.append("L")
    if mode != "RGB":
        stages.append("RGBA")  # to RGB or RGBA: both are four bytes a pixel in Pillow
    if has_icc or mode == "LAB":
        stages.append("RGBA")
    if transposes:
        stages.append("RGBA")
    stages.append(1)  # the encoder's buffer beside the last image
    pairs = [image_memory_bytes(width, height, a, into=[b]) for a, b in zip(stages, stages[1:], strict=False)]
    if has_icc and mode in ("RGBA", "RGBa"):
        pairs.append(image_memory_bytes(width, height, "RGBA", into=["RGB", "RGB"]))  # alpha dropped, then converted
    return max(pairs) + 2 * source_bytes


# --------------------------------------------------------------------------------------------------- converting


def _orientation(im: Image.Image) -> int:
    try:
        value = im.getexif().get(0x0112, 1)
    except Exception:  # malformed EXIF must not block an otherwise good photo: treat as upright
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


# Rows converted at a time by `_to_8bit`: its float work stays a few megabytes, whatever the image's size.
_STRIP_PIXELS = 1 << 20


def _to_8bit(im: Image.Image) -> Image.Image:
    """Deep single-channel modes (I;16*, I, F) to 8-bit L, scaling rather than clipping.

    Done in strips of rows, so the only full-size allocation is the 8-bit result."""
    if not (im.mode.startswith("I") or im.mode == "F"):
        return im
    width, height = im.size
    if im.mode == "F":
        peak = max((float(np.nan_to_num(np.asarray(s), nan=0.0).max()) for s in _strips(im)), default=0.0)
        scale = 255.0 if peak <= 1.0 else 1.0
    else:
        deep = im.mode.startswith("I;16") or any(int(np.asarray(s).max(initial=0)) > 255 for s in _strips(im))
        scale = 1 / 257.0 if deep else 1.0
    out = np.empty((height, width), dtype=np.uint8)
    row = 0
    for strip in _strips(im):
        arr = np.asarray(strip).astype(np.float64)
        if im.mode == "F":
            arr = np.nan_to_num(arr, nan=0.0, posinf=255.0, neginf=0.0)
        arr *= scale
        out[row : row + arr.shape[0]] = np.clip(np.rint(arr), 0, 255)
        row += arr.shape[0]
    return Image.fromarray(out, mode="L")


def _strips(im: Image.Image) -> Iterator[Image.Image]:
    rows = max(1, _STRIP_PIXELS // max(1, im.size[0]))
    for top in range(0, im.size[1], rows):
        yield im.crop((0, top, im.size[0], min(im.size[1], top + rows)))


def _replace(old: Image.Image, new: Image.Image | None) -> Image.Image:
    """``new``, with ``old``'s pixels freed at once when it is a different image (the caller holds no other)."""
    if new is None or new is old:
        return old
    old.close()
    return new


def _has_alpha(im: Image.Image) -> bool:
    return im.mode in ("RGBA", "RGBa", "LA", "La", "PA") or (im.mode == "P" and "transparency" in im.info)


_SRGB = ImageCms.createProfile("sRGB")


def _to_srgb(im: Image.Image, icc: bytes | None, alpha: bool) -> Image.Image:
    """Convert to RGB/RGBA in sRGB. An embedded non-sRGB profile is honoured; an unusable one is ignored."""
    target = "RGBA" if alpha else "RGB"
    if im.mode == "LAB":  # CIELAB pixels (some TIFFs): the colour space is known without a profile
        im = _replace(im, ImageCms.profileToProfile(im, ImageCms.createProfile("LAB"), _SRGB, outputMode="RGB"))
        icc = None
    if icc and im.mode in ("RGB", "RGBA", "CMYK", "L"):
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            if "srgb" not in ImageCms.getProfileDescription(src).lower():
                source = im if im.mode != "RGBA" or alpha else im.convert("RGB")
                converted = ImageCms.profileToProfile(
                    source, src, _SRGB, outputMode="RGBA" if source.mode == "RGBA" else "RGB"
                )
                if source is not im:
                    source.close()
                im = _replace(im, converted)
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # bad or mismatched profile (e.g. a Lab profile on RGB pixels): keep the pixels as they are
    if im.mode != target:
        im = _replace(im, im.convert(target))
    return im


def _normalise(im: Image.Image) -> tuple[Image.Image, bool]:
    """Return (RGB or RGBA image in sRGB, has_alpha).

    Takes ``im`` over: each stage frees the image before it, so at most two full-size images are alive at once (as
    `ingest_memory_bytes` prices it). The result may be ``im`` itself when nothing needed converting."""
    icc = im.info.get("icc_profile")
    im = _replace(im, _to_8bit(im))
    alpha = _has_alpha(im)
    if im.mode in ("P", "PA", "LA", "La", "RGBa", "1", "YCbCr", "HSV", "I;16", "I", "F"):
        im = _replace(im, im.convert("RGBA" if alpha else "RGB"))
    if alpha and im.mode == "RGBA" and im.getchannel("A").getextrema() == (255, 255):
        alpha = False  # fully opaque alpha carries nothing
    im = _to_srgb(im, icc if isinstance(icc, bytes) else None, alpha)
    return im, alpha


def _encode(im: Image.Image, fmt: str) -> bytes:
    im.info = {}  # belt and braces: Pillow's encoders fall back to im.info for comments / ICC profiles
    if fmt == "png":
        buf = io.BytesIO()
        im.save(buf, format="PNG", optimize=False, compress_level=6)
        return buf.getvalue()
    return encode_jpeg(im, quality=JPEG_QUALITY, subsampling=0)


def encode_jpeg(image: Image.Image, *, quality: int, subsampling: int = -1, progressive: bool = False) -> bytes:
    """JPEG bytes of `image`, with optimised Huffman tables when they fit Pillow's one-shot buffer.

    Optimised (and progressive) JPEGs are written by libjpeg in one shot into a buffer Pillow sizes at one byte per
    pixel (two at quality 95 and up). A grainy photo at high quality with full-resolution colour needs more, and
    Pillow then fails with "Suspension not allowed here". Such an image is written again as a baseline JPEG, which
    streams and has no such limit: a few per cent larger, never a failure.

    Parameters
    ----------
    image : PIL.Image.Image
        An image in a mode JPEG can hold (L, RGB or CMYK).
    quality : int
        JPEG quality, 1..95.
    subsampling : int, optional
        Pillow's chroma subsampling: 0 = 4:4:4, 1 = 4:2:2, 2 = 4:2:0; -1 (default) leaves it to Pillow.
    progressive : bool, optional
        Write a progressive JPEG when it fits the buffer.

    Returns
    -------
    bytes
        The encoded JPEG.
    """
    buf = io.BytesIO()
    try:
        image.save(buf, format="JPEG", quality=quality, subsampling=subsampling, optimize=True, progressive=progressive)
    except OSError:
        buf = io.BytesIO()
        image.save(buf, format="JPEG", quality=quality, subsampling=subsampling)
    return buf.getvalue()


# --------------------------------------------------------------------------------------------------- entry point


_DEFAULT_LIMITS = IngestLimits()


def ingest_image(
    data: bytes | bytearray | memoryview | BinaryIO, *, limits: IngestLimits = _DEFAULT_LIMITS
) -> IngestedImage:
    """Validate, decode, orient, convert to sRGB and re-encode ``data``; raise IngestError if it is refused.

    The contract and the decisions behind it are in the module docstring.

    Parameters
    ----------
    data : bytes, bytearray, memoryview or binary file object
        The upload. A stream is read for at most ``limits.max_bytes + 1`` bytes.
    limits : IngestLimits, optional
        Size and pixel-count limits; the defaults of `IngestLimits` when not given.

    Returns
    -------
    IngestedImage
        The clean image: JPEG, or PNG for PNG sources and images with real alpha.

    Raises
    ------
    IngestError
        If the upload is refused: empty, too large, not an accepted type, too many pixels, a decompression bomb
        or damaged (see `IngestError.code`).
    TypeError
        If `data` is neither bytes nor a binary stream.
    """
    raw = _read_capped(data, limits.max_bytes)
    if not raw:
        raise IngestError("empty_file", "This file is 0 bytes: nothing was uploaded.")

    source_format = sniff_format(raw[:64])
    if source_format is None:
        kind = identify_non_image(raw[:4096])
        if kind is None:
            message = f"This file isn't an image type we recognise. {_UPLOAD_HINT}"
        elif kind in ("gif", "bmp", "ico", "psd", "avif", "jxl"):
            message = f"This is {_NON_IMAGE_LABELS[kind]}, which isn't supported. {_UPLOAD_HINT}"
        else:
            message = f"This looks like {_NON_IMAGE_LABELS[kind]}, not a photo. {_UPLOAD_HINT}"
        raise IngestError("unsupported_type", message, detected=kind, detail=f"magic {raw[:16]!r}")

    im = _open_header(raw, source_format, limits)
    try:
        # Priced from the header, before any pixel is decoded: over the budget is refused, and decodes running
        # in other threads are waited for (imaging.memory).
        price = partial(
            ingest_memory_bytes,
            *im.size,
            im.mode,
            has_icc=isinstance(im.info.get("icc_profile"), bytes),
            source_bytes=len(raw),
        )
        needed = price(transposes=_orientation_known(im) in _TRANSPOSE)
        with reserve_image_memory(needed) as reservation:
            orientation = _load(im, source_format, limits)
            if orientation in _TRANSPOSE:  # a PNG's eXIf chunk may come after the pixels: known only now
                needed = price(transposes=True)
                reservation.grow(needed)
            try:
                clean, alpha = _normalise(im)
            except MemoryError:
                raise
            except Exception as exc:  # exotic mode/plugin combinations: refuse rather than leak a stack trace
                raise _corrupt(source_format, exc) from exc
            if clean is im:
                # Never re-save the decoded file object itself (it carries the source's info and plugin state): a
                # plain image on the same pixels, without copying them.
                clean = im._new(im.im)
                im.close()
            if orientation in _TRANSPOSE:
                clean = _replace(clean, clean.transpose(_TRANSPOSE[orientation]))
            out_format = "png" if (source_format == "png" or alpha) else "jpeg"
            encoded = _encode(clean, out_format)
            clean.close()
    except ImageMemoryRefused as refused:
        raise IngestError("too_much_memory", refused.message, detail=f"{needed} > {refused.limit} bytes") from None
    except ImageMemoryBusy as busy:
        raise IngestError("busy", busy.message, detail=f"waited {busy.waited:.0f} s for {busy.needed} bytes") from None
    finally:
        im.close()

    return IngestedImage(
        data=encoded,
        format=out_format,
        mime=f"image/{out_format}",
        width=clean.width,
        height=clean.height,
        source_format=source_format,
        sha256=hashlib.sha256(encoded).hexdigest(),
    )
