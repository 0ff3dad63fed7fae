"""Test corpus for ``intaglio.imaging.ingest``, generated in code: nothing downloaded, no binary files committed."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import numpy as np
import pillow_heif
from PIL import Image, ImageCms

pillow_heif.register_heif_opener()

RED = (255, 0, 0)
GREEN = (0, 255, 0)
BLUE = (0, 0, 255)
WHITE = (255, 255, 255)

# ------------------------------------------------------------------------------------------------ pixel builders


def quadrants(width: int = 40, height: int = 80) -> Image.Image:
    """An upright test card: red top-left, green top-right, blue bottom-left, white bottom-right."""
    im = Image.new("RGB", (width, height), WHITE)
    hw, hh = width // 2, height // 2
    im.paste(RED, (0, 0, hw, hh))
    im.paste(GREEN, (hw, 0, width, hh))
    im.paste(BLUE, (0, hh, hw, height))
    return im


def stored_for_orientation_6(upright: Image.Image) -> Image.Image:
    """The pixels a camera stores for ``upright`` when it writes EXIF orientation 6 (display = rotate 90° CW)."""
    return upright.transpose(Image.Transpose.ROTATE_90)  # 90° counter-clockwise


def noise(width: int = 96, height: int = 64, seed: int = 1) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), mode="RGB")


def encode(im: Image.Image, fmt: str, **kwargs) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kwargs)
    return buf.getvalue()


def jpeg(im: Image.Image | None = None, **kwargs) -> bytes:
    kwargs.setdefault("quality", 95)
    kwargs.setdefault("subsampling", 0)
    return encode(im if im is not None else quadrants(), "JPEG", **kwargs)


# ------------------------------------------------------------------------------------------------ EXIF / metadata


def grainy_jpeg() -> bytes:
    """An 800 × 600 photo of pure film grain at quality 95 with full-resolution colour (4:4:4): it takes more than a
    byte per pixel, past the buffer Pillow gives optimised JPEGs."""
    return encode(noise(800, 600, seed=7), "JPEG", quality=95, subsampling=0)


def exif_with_orientation(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif


def rotated_jpeg() -> bytes:
    """A JPEG whose stored pixels are landscape (80×40) and whose EXIF says orientation 6."""
    return jpeg(stored_for_orientation_6(quadrants()), exif=exif_with_orientation(6).tobytes())


def big_exif_jpeg(comment_bytes: int = 60_000) -> bytes:
    """A JPEG carrying ~60 KB of EXIF: a huge UserComment and MakerNote (the APP1 segment holds at most 64 KB)."""
    exif = Image.Exif()
    exif[0x010F] = "Acme"
    sub = exif.get_ifd(0x8769)
    sub[0x9286] = b"ASCII\x00\x00\x00" + b"u" * (comment_bytes // 2)  # UserComment
    sub[0x927C] = b"m" * (comment_bytes // 2)  # MakerNote
    return jpeg(noise(), exif=exif.tobytes())


XMP = (
    b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreatorTool="SecretCam 1.0"'
    b' xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="51,30.2N"/>'
    b'</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)

IPTC_MARKER = b"Photoshop 3.0\x00"


def _jpeg_segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def with_iptc(jpeg_bytes: bytes) -> bytes:
    """Insert an APP13 Photoshop/IPTC block (byline 'Jane Secret') right after SOI."""
    iptc = b"\x1c\x02\x50" + struct.pack(">H", 11) + b"Jane Secret"
    resource = b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(iptc)) + iptc + (b"\x00" if len(iptc) % 2 else b"")
    return jpeg_bytes[:2] + _jpeg_segment(0xED, IPTC_MARKER + resource) + jpeg_bytes[2:]


def gps_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Acme"  # Make
    exif[0x0110] = "Phone 9"  # Model
    exif[0x0131] = "SecretCam 1.0"  # Software
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (51.0, 30.0, 12.5)
    gps[3] = "W"
    gps[4] = (0.0, 7.0, 39.0)
    return exif


def gps_photo(icc: bytes | None = None, colour: tuple[int, int, int] = RED) -> bytes:
    """A JPEG with EXIF incl. GPS, XMP, a COM comment, IPTC, and (by default) the swapped-primaries ICC profile."""
    data = jpeg(
        Image.new("RGB", (64, 48), colour),
        exif=gps_exif().tobytes(),
        xmp=XMP,
        comment=b"shot at 12 Secret Lane",
        icc_profile=swapped_rg_profile() if icc is None else icc,
    )
    return with_iptc(data)


# ------------------------------------------------------------------------------------------------ ICC profiles

_SRGB_D50 = {  # sRGB colorants adapted to the D50 PCS, as in every sRGB v2 profile
    "r": (0.4361, 0.2225, 0.0139),
    "g": (0.3851, 0.7169, 0.0971),
    "b": (0.1431, 0.0606, 0.7141),
}


def _s15(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536))


def _xyz_tag(xyz: tuple[float, float, float]) -> bytes:
    return b"XYZ \x00\x00\x00\x00" + b"".join(_s15(v) for v in xyz)


def rgb_matrix_profile(
    red: tuple[float, float, float],
    green: tuple[float, float, float],
    blue: tuple[float, float, float],
    description: str,
    gamma: float = 2.2,
) -> bytes:
    """A minimal ICC v2 RGB matrix/TRC display profile, built byte by byte."""
    desc_ascii = description.encode("ascii") + b"\x00"
    tags = {
        b"desc": b"desc\x00\x00\x00\x00"
        + struct.pack(">I", len(desc_ascii))
        + desc_ascii
        + b"\x00" * 8  # unicode language + count
        + b"\x00\x00\x00"  # scriptcode code + count
        + b"\x00" * 67,
        b"cprt": b"text\x00\x00\x00\x00No copyright, test data\x00",
        b"wtpt": _xyz_tag((0.9642, 1.0, 0.8249)),
        b"rXYZ": _xyz_tag(red),
        b"gXYZ": _xyz_tag(green),
        b"bXYZ": _xyz_tag(blue),
        b"rTRC": b"curv\x00\x00\x00\x00" + struct.pack(">IH", 1, round(gamma * 256)) + b"\x00\x00",
    }
    tags[b"gTRC"] = tags[b"bTRC"] = tags[b"rTRC"]
    order = list(tags)
    table_len = 4 + 12 * len(order)
    offset = 128 + table_len
    table = struct.pack(">I", len(order))
    body = b""
    for sig in order:
        blob = tags[sig]
        table += sig + struct.pack(">II", offset + len(body), len(blob))
        body += blob + b"\x00" * (-len(blob) % 4)
    size = 128 + table_len + len(body)
    header = (
        struct.pack(">I", size)
        + b"lcms"
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + struct.pack(">6H", 2024, 1, 1, 0, 0, 0)
        + b"acsp"
        + b"\x00" * 24  # platform, flags, manufacturer, model, attributes
        + struct.pack(">I", 0)  # rendering intent
        + _s15(0.9642)
        + _s15(1.0)
        + _s15(0.8249)
        + b"test"
    )
    header += b"\x00" * (128 - len(header))
    return header + table + body


def swapped_rg_profile() -> bytes:
    """A non-sRGB profile whose red primary is sRGB's green and vice versa: stored red must come out green."""
    return rgb_matrix_profile(_SRGB_D50["g"], _SRGB_D50["r"], _SRGB_D50["b"], "Swapped RG test space")


def lab_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()


def srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


# ------------------------------------------------------------------------------------------------ hostile / broken


def truncated_jpeg() -> bytes:
    data = jpeg(noise(256, 256))
    return data[: len(data) // 2]


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A PNG whose IHDR declares width×height 8-bit greyscale, with correct CRCs and a tiny IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (width + 1) * 4, 9)  # a few rows; the rest is "missing"
    return PNG_SIGNATURE + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


HTML = (
    b"<!DOCTYPE html>\n<html><head><title>Totally a photo</title></head><body><script>alert(1)</script></body></html>"
)
SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script>'
    b'<rect width="10" height="10" fill="red"/></svg>'
)
BARE_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
TEXT = b"Dear shop,\nplease engrave my dog.\nThanks!\n"


def zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("payload.html", "<script>alert(document.cookie)</script>")
    return buf.getvalue()


def polyglot_jpeg_zip() -> bytes:
    """A valid JPEG with a ZIP archive appended (readable by both a JPEG decoder and unzip)."""
    return jpeg(quadrants()) + zip_bytes()


def gif() -> bytes:
    return encode(quadrants(), "GIF")


# ------------------------------------------------------------------------------------------------ other formats


def heic_rotated() -> bytes:
    """HEIC from pillow_heif; EXIF orientation 6 on save (pillow_heif turns it into an irot transform)."""
    return encode(stored_for_orientation_6(quadrants()), "HEIF", exif=exif_with_orientation(6).tobytes(), quality=95)


def tiff_gray16() -> tuple[bytes, np.ndarray]:
    """A 16-bit greyscale TIFF (mode I;16) with values spanning the whole 0..65535 range."""
    values = np.array([[0, 257, 30000, 32896, 65535, 65535]] * 4, dtype=np.uint16)
    return encode(Image.fromarray(values), "TIFF"), values


def tiff_rgb16(width: int = 6, height: int = 4) -> tuple[bytes, np.ndarray]:
    """A 16-bit-per-sample RGB TIFF, uncompressed, built by hand (Pillow cannot write one)."""
    pixels = np.zeros((height, width, 3), dtype="<u2")
    pixels[..., 0] = 65535
    pixels[..., 1] = 30000
    pixels[..., 2] = 257
    data = pixels.tobytes()
    entries = [
        (256, 3, 1, width),
        (257, 3, 1, height),
        (258, 3, 3, None),  # BitsPerSample 16,16,16 -> stored out of line
        (259, 3, 1, 1),  # no compression
        (262, 3, 1, 2),  # RGB
        (273, 4, 1, None),  # StripOffsets
        (277, 3, 1, 3),
        (278, 4, 1, height),
        (279, 4, 1, len(data)),
        (284, 3, 1, 1),
    ]
    ifd_offset = 8
    ifd_len = 2 + 12 * len(entries) + 4
    bits_offset = ifd_offset + ifd_len
    strip_offset = bits_offset + 6
    out = b"II*\x00" + struct.pack("<I", ifd_offset) + struct.pack("<H", len(entries))
    for tag, typ, count, value in entries:
        if tag == 258:
            out += struct.pack("<HHII", tag, typ, count, bits_offset)
        elif tag == 273:
            out += struct.pack("<HHII", tag, typ, count, strip_offset)
        elif typ == 3:
            out += struct.pack("<HHIHH", tag, typ, count, value, 0)
        else:
            out += struct.pack("<HHII", tag, typ, count, value)
    out += struct.pack("<I", 0) + struct.pack("<3H", 16, 16, 16) + data
    return out, pixels


def png_gray16() -> bytes:
    values = np.array([[0, 30000, 65535]] * 3, dtype=np.uint16)
    return encode(Image.fromarray(values), "PNG")


def cmyk_jpeg() -> bytes:
    """A CMYK JPEG (Adobe APP14): left half white (no ink), right half pure cyan."""
    im = Image.new("CMYK", (32, 16), (0, 0, 0, 0))
    im.paste((255, 0, 0, 0), (16, 0, 32, 16))
    return encode(im, "JPEG", quality=95)


def webp(alpha: bool = False, lossless: bool = False) -> bytes:
    im = quadrants()
    if alpha:
        im = im.convert("RGBA")
        im.putalpha(Image.new("L", im.size, 128))
    return encode(im, "WEBP", quality=95, lossless=lossless)


def png_alpha() -> bytes:
    """RGBA PNG: left half fully transparent, right half opaque red."""
    im = Image.new("RGBA", (20, 10), (0, 0, 255, 0))
    im.paste((255, 0, 0, 255), (10, 0, 20, 10))
    return encode(im, "PNG")


def png_palette_transparent() -> bytes:
    im = Image.new("P", (8, 8), 0)
    im.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    im.paste(1, (4, 0, 8, 8))
    return encode(im, "PNG", transparency=0)


def png_with_text_and_exif() -> bytes:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Secret")
    info.add_itxt("XML:com.adobe.xmp", XMP.decode("utf-8"), zip=True)
    return encode(quadrants(), "PNG", pnginfo=info, exif=gps_exif().tobytes())


def animated(fmt: str) -> bytes:
    """Two frames: red then blue (WEBP/PNG animations, multipage TIFF)."""
    first, second = Image.new("RGB", (16, 16), RED), Image.new("RGB", (16, 16), BLUE)
    extra = {"duration": 100, "loop": 0} if fmt in ("WEBP", "PNG") else {}
    if fmt == "WEBP":
        extra["lossless"] = True
    return encode(first, fmt, save_all=True, append_images=[second], **extra)
