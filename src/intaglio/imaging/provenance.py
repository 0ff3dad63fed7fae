"""Machine-readable "how this image was made": the IPTC digital source type in an XMP packet, written into a JPEG,
PNG or WebP file without touching its pixels.

Pure module (no Django). The packet holds the source type and nothing else: no names, no dates, no identifiers, so
it can say nothing about who asked for the image. Any XMP packet the file already had is replaced (a generator's own
packet could contradict ours, or carry things we do not vouch for).

The terms, from the IPTC NewsCodes vocabulary http://cv.iptc.org/newscodes/digitalsourcetype/:

- ``trainedAlgorithmicMedia`` ("created algorithmically using a model derived from sampled content"): an image from
  a remote generative model;
- ``compositeSynthetic`` ("a mix or composite of several elements, at least one of which is synthetic"): the local
  packshot, the customer's own photograph of the piece cut out and placed on a backdrop, shadow and reflection that
  are drawn by formula. No trained model makes any of its pixels, so neither ``trainedAlgorithmicMedia`` nor
  ``compositeWithTrainedAlgorithmicMedia`` (which says a trained model's output is part of it) would be true, and
  ``algorithmicMedia`` ("created purely by an algorithm") would deny the photograph in it.
"""

from __future__ import annotations

import struct
import zlib
from xml.sax.saxutils import escape

__all__ = [
    "COMPOSITE_SYNTHETIC",
    "IPTC_SOURCE_TYPES",
    "TRAINED_ALGORITHMIC_MEDIA",
    "with_source_type",
    "xmp_packet",
]

IPTC_SOURCE_TYPES = "http://cv.iptc.org/newscodes/digitalsourcetype/"
TRAINED_ALGORITHMIC_MEDIA = IPTC_SOURCE_TYPES + "trainedAlgorithmicMedia"
COMPOSITE_SYNTHETIC = IPTC_SOURCE_TYPES + "compositeSynthetic"

_JPEG_XMP = b"http://ns.adobe.com/xap/1.0/\x00"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_XMP = b"XML:com.adobe.xmp"


def xmp_packet(source_type: str) -> bytes:
    """An XMP packet stating the IPTC digital source type (Iptc4xmpExt:DigitalSourceType), and nothing else."""
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/">'
        f"<Iptc4xmpExt:DigitalSourceType>{escape(source_type)}</Iptc4xmpExt:DigitalSourceType>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    ).encode()


def with_source_type(data: bytes, mime: str, source_type: str) -> bytes:
    """The same image with its XMP packet replaced by one stating `source_type` (JPEG, PNG or WebP)."""
    packet = xmp_packet(source_type)
    if mime == "image/jpeg":
        return _jpeg_with_xmp(data, packet)
    if mime == "image/png":
        return _png_with_xmp(data, packet)
    if mime == "image/webp":
        return _webp_with_xmp(data, packet)
    raise ValueError(f"cannot write XMP into {mime}")


def _jpeg_with_xmp(data: bytes, packet: bytes) -> bytes:
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG file")
    payload = _JPEG_XMP + packet
    if len(payload) + 2 > 0xFFFF:
        raise ValueError("XMP packet too large for one JPEG segment")
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    head, pos = [data[:2]], 2
    inserted = False
    # Walk the header segments up to the start of scan: drop an earlier XMP segment, insert ours after APP0 (JFIF).
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xDA:  # start of scan: the rest is image data
            break
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        chunk = data[pos : pos + 2 + length]
        if not inserted and marker != 0xE0:
            head.append(segment)
            inserted = True
        if not (marker == 0xE1 and chunk[4:].startswith(_JPEG_XMP)):
            head.append(chunk)
        pos += 2 + length
    if not inserted:
        head.append(segment)
    return b"".join(head) + data[pos:]


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def _png_with_xmp(data: bytes, packet: bytes) -> bytes:
    if not data.startswith(_PNG_SIGNATURE):
        raise ValueError("not a PNG file")
    # iTXt: keyword, NUL, compression flag 0, method 0, empty language tag NUL, empty translated keyword NUL, text.
    xmp = _png_chunk(b"iTXt", _PNG_XMP + b"\x00\x00\x00\x00\x00" + packet)
    out, pos = [_PNG_SIGNATURE], len(_PNG_SIGNATURE)
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunk = data[pos : pos + 12 + length]
        pos += 12 + length
        if kind == b"iTXt" and chunk[8:].startswith(_PNG_XMP + b"\x00"):
            continue
        out.append(chunk)
        if kind == b"IHDR":
            out.append(xmp)
    return b"".join(out)


def _riff_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) % 2 else b"")


def _webp_size(kind: bytes, body: bytes) -> tuple[int, int, bool]:
    """(width, height, has alpha) of a simple WebP's only image chunk."""
    if kind == b"VP8 ":
        width, height = struct.unpack("<HH", body[6:10])
        return width & 0x3FFF, height & 0x3FFF, False
    if kind == b"VP8L":
        bits = int.from_bytes(body[1:5], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool((bits >> 28) & 1)
    raise ValueError("unknown WebP image chunk")


def _webp_with_xmp(data: bytes, packet: bytes) -> bytes:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ValueError("not a WebP file")
    chunks, pos = [], 12
    while pos + 8 <= len(data):
        kind, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        chunks.append((kind, data[pos + 8 : pos + 8 + size]))
        pos += 8 + size + (size % 2)
    chunks = [(kind, body) for kind, body in chunks if kind != b"XMP "]
    if chunks and chunks[0][0] == b"VP8X":
        flags = bytes([chunks[0][1][0] | 0x04]) + chunks[0][1][1:]
        chunks[0] = (b"VP8X", flags)
    else:
        width, height, alpha = _webp_size(*chunks[0])
        flags = 0x04 | (0x10 if alpha else 0)
        header = bytes([flags, 0, 0, 0]) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        chunks.insert(0, (b"VP8X", header))
    chunks.append((b"XMP ", packet))
    body = b"WEBP" + b"".join(_riff_chunk(kind, chunk) for kind, chunk in chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body
