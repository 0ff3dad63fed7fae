"""intaglio.imaging.ingest: hostile and ordinary uploads, generated in code (tests/imaging/corpus.py)."""

from __future__ import annotations

import ast
import hashlib
import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms, ImageFile, JpegImagePlugin

from intaglio.imaging import ingest as ingest_module
from intaglio.imaging.ingest import IngestError, IngestLimits, identify_non_image, ingest_image, sniff_format
from tests.imaging import corpus

UPLOAD_HINT = "Upload a JPEG, PNG, WebP, HEIC or TIFF image."


def reopen(result) -> Image.Image:
    im = Image.open(io.BytesIO(result.data))
    im.load()
    return im


def close_to(actual, expected, tol: int = 6) -> bool:
    return all(abs(a - e) <= tol for a, e in zip(actual, expected, strict=True))


def reject(data, **kwargs) -> IngestError:
    with pytest.raises(IngestError) as info:
        ingest_image(data, **kwargs)
    return info.value


class NamedBytes(io.BytesIO):
    """An upload stream with a misleading file name: the name must play no part."""

    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(data)
        self.name = name


# ------------------------------------------------------------------------------------------------ sniffing


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "png"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "webp"),
        (b"II*\x00\x08\x00\x00\x00", "tiff"),
        (b"MM\x00*\x00\x00\x00\x08", "tiff"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "heif"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic", "heif"),
        (b"\x00\x00\x00\x1cftypmsf1\x00\x00\x00\x00msf1hevcmsf1", "heif"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", None),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00isomiso2", None),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", None),
        (b"GIF89a", None),
        (b"", None),
    ],
)
def test_sniff_format_uses_magic_bytes_only(head, expected):
    assert sniff_format(head) == expected


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (corpus.HTML, "html"),
        (b"  \n<html><body>hi</body></html>", "html"),
        (corpus.SVG, "svg"),
        (corpus.BARE_SVG, "svg"),
        (b'<?xml version="1.0"?><feed/>', "xml"),
        (corpus.PDF, "pdf"),
        (corpus.TEXT, "text"),
        (b"GIF89a\x01\x00\x01\x00", "gif"),
        (b"BM" + b"\x00" * 40, "bmp"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", "avif"),
        (b"MZ\x90\x00", "exe"),
        (bytes(range(256)), None),
    ],
)
def test_identify_non_image_names_common_files(data, kind):
    assert identify_non_image(data) == kind


# ------------------------------------------------------------------------------------------------ refusals


def test_zero_bytes_is_empty_file():
    err = reject(b"")
    assert err.code == "empty_file"
    assert err.message == "This file is 0 bytes: nothing was uploaded."
    assert str(err) == err.message
    assert reject(io.BytesIO(b"")).code == "empty_file"


def test_html_renamed_jpg_is_named_as_html():
    err = reject(NamedBytes(corpus.HTML, "holiday.jpg"))
    assert err.code == "unsupported_type"
    assert err.detected == "html"
    assert err.message == f"This looks like an HTML document, not a photo. {UPLOAD_HINT}"


@pytest.mark.parametrize("svg", [corpus.SVG, corpus.BARE_SVG])
def test_svg_renamed_jpg_is_named_as_svg(svg):
    err = reject(NamedBytes(svg, "logo.jpg"))
    assert (err.code, err.detected) == ("unsupported_type", "svg")
    assert err.message == f"This looks like an SVG drawing, not a photo. {UPLOAD_HINT}"


@pytest.mark.parametrize(
    ("data", "detected", "phrase"),
    [
        (corpus.PDF, "pdf", "This looks like a PDF document, not a photo."),
        (corpus.zip_bytes(), "zip", "This looks like a ZIP archive"),
        (corpus.TEXT, "text", "This looks like a plain-text file, not a photo."),
        (corpus.gif(), "gif", "This is a GIF image, which isn't supported."),
        (bytes(range(256)) * 4, None, "This file isn't an image type we recognise."),
    ],
)
def test_other_non_images_get_specific_messages(data, detected, phrase):
    err = reject(data)
    assert (err.code, err.detected) == ("unsupported_type", detected)
    assert err.message.startswith(phrase)
    assert err.message.endswith(UPLOAD_HINT)


def test_truncated_jpeg_is_corrupt_not_padded():
    err = reject(corpus.truncated_jpeg())
    assert err.code == "corrupt_image"
    assert "truncated" in err.message
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_truncated_jpeg_is_refused_even_if_someone_enabled_truncated_loading(monkeypatch):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    assert reject(corpus.truncated_jpeg()).code == "corrupt_image"
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # restored, not left as we set it


def test_magic_bytes_must_be_proved_by_decoding():
    fake = corpus.PNG_SIGNATURE + corpus.jpeg()[2:]
    err = reject(fake)
    assert err.code == "corrupt_image"
    assert "PNG" in err.message


def test_png_declaring_30000_squared_is_a_decompression_bomb():
    data = corpus.png_bomb()
    assert len(data) < 2000
    assert struct.unpack(">II", data[16:24]) == (30_000, 30_000)  # the IHDR really declares it
    err = reject(data)
    assert err.code == "decompression_bomb"
    assert "refused" in err.message


def test_png_over_the_pixel_limit_is_too_many_pixels_before_decoding():
    err = reject(corpus.png_bomb(12_000, 12_000))  # 144 MP > 100 MP default, < 2× so not a "bomb"
    assert err.code == "too_many_pixels"
    assert "100 megapixels" in err.message
    assert "144 megapixels" in err.message


def test_pixel_limit_comes_from_limits_not_from_pillow_globals(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # someone disabled Pillow's check globally
    small = IngestLimits(max_pixels=1000)
    err = reject(corpus.jpeg(corpus.quadrants(40, 40)), limits=small)  # 1600 px
    assert err.code == "too_many_pixels"
    assert "(40 × 40 pixels)" in err.message or "megapixels" in err.message
    assert reject(corpus.jpeg(corpus.quadrants(40, 80)), limits=small).code == "decompression_bomb"  # 3200 > 2×
    assert Image.MAX_IMAGE_PIXELS is None  # restored
    assert ingest_image(corpus.jpeg(corpus.quadrants(20, 40)), limits=small).width == 20  # 800 px is fine


def test_header_limit_applies_before_full_decode(monkeypatch):
    loads = []
    real_load = ImageFile.ImageFile.load

    def spy(self):
        loads.append(self.size)
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    reject(corpus.jpeg(corpus.quadrants(40, 40)), limits=IngestLimits(max_pixels=1000))
    assert loads == []


def test_png_text_chunk_bomb_is_refused():
    png = corpus.encode(corpus.quadrants(), "PNG")
    ztxt = b"Comment\x00\x00" + zlib.compress(b"a" * (4 * 1024 * 1024), 9)
    data = png[:33] + corpus._png_chunk(b"zTXt", ztxt) + png[33:]
    assert reject(data).code == "decompression_bomb"


def test_byte_limit_on_a_stream_reads_at_most_max_bytes_plus_one():
    class CountingStream(io.BytesIO):
        consumed = 0

        def read(self, size=-1):
            chunk = super().read(size)
            self.consumed += len(chunk)
            return chunk

    limits = IngestLimits(max_bytes=10_000)
    stream = CountingStream(corpus.jpeg(corpus.noise(400, 400)) + b"\x00" * 100_000)
    err = reject(stream, limits=limits)
    assert err.code == "too_large"
    assert err.message == "This file is larger than the 10 KB limit."
    assert stream.consumed == 10_001

    exact = corpus.jpeg()
    assert ingest_image(io.BytesIO(exact), limits=IngestLimits(max_bytes=len(exact))).source_format == "jpeg"
    assert reject(exact, limits=IngestLimits(max_bytes=len(exact) - 1)).code == "too_large"


def test_byte_limit_on_bytes_names_the_size():
    err = reject(b"\xff\xd8\xff" + b"\x00" * (3 * 1024 * 1024), limits=IngestLimits(max_bytes=2 * 1024 * 1024))
    assert err.code == "too_large"
    assert err.message == "This file is 3 MB; the limit is 2 MB."


def test_short_reads_from_a_stream_are_assembled():
    class Trickle(io.BytesIO):
        def read(self, size=-1):
            return super().read(min(size, 7) if size and size > 0 else 7)

    result = ingest_image(Trickle(corpus.jpeg()))
    assert (result.width, result.height) == (40, 80)


# ------------------------------------------------------------------------------------------------ metadata


def test_gps_photo_loses_every_metadata_block():
    source = corpus.gps_photo()
    for marker in (b"Exif\x00\x00", b"http://ns.adobe.com/xap", b"ICC_PROFILE", corpus.IPTC_MARKER, b"Secret"):
        assert marker in source  # the corpus really carries it
    assert Image.open(io.BytesIO(source)).getexif().get_ifd(0x8825)

    result = ingest_image(source)
    for marker in (b"Exif", b"http://ns.adobe.com/xap", b"ICC_PROFILE", b"Photoshop", b"8BIM", b"Secret", b"Acme"):
        assert marker not in result.data
    im = reopen(result)
    assert dict(im.getexif()) == {}
    assert not im.getexif().get_ifd(0x8825)
    assert "exif" not in im.info and "xmp" not in im.info and "comment" not in im.info
    assert "icc_profile" not in im.info
    assert hashlib.sha256(result.data).hexdigest() == result.sha256


def test_non_srgb_icc_profile_is_converted_to_srgb():
    # Stored red in a profile whose red primary is sRGB's green must come out green once converted.
    profile = ImageCms.ImageCmsProfile(io.BytesIO(corpus.swapped_rg_profile()))
    assert "srgb" not in ImageCms.getProfileDescription(profile).lower()
    im = reopen(ingest_image(corpus.gps_photo(colour=corpus.RED)))
    assert close_to(im.getpixel((10, 10)), corpus.GREEN)


@pytest.mark.parametrize(("icc", "expected"), [("lab", corpus.RED), ("srgb", corpus.RED)])
def test_mismatched_or_srgb_profiles_keep_pixels_and_are_not_embedded(icc, expected):
    profile = corpus.lab_profile() if icc == "lab" else corpus.srgb_profile()
    result = ingest_image(corpus.gps_photo(icc=profile, colour=corpus.RED))
    im = reopen(result)
    assert "icc_profile" not in im.info
    assert close_to(im.getpixel((10, 10)), expected)


def test_oversized_exif_is_accepted_and_dropped():
    source = corpus.big_exif_jpeg()
    assert len(Image.open(io.BytesIO(source)).info["exif"]) > 59_000
    result = ingest_image(source)
    assert b"Exif" not in result.data
    assert len(result.data) < len(source) - 55_000
    assert dict(reopen(result).getexif()) == {}


def test_png_text_xmp_and_exif_chunks_are_dropped():
    result = ingest_image(corpus.png_with_text_and_exif())
    assert result.format == "png"
    chunks = []
    pos = 8
    while pos < len(result.data):
        length, kind = struct.unpack(">I4s", result.data[pos : pos + 8])
        chunks.append(kind)
        pos += 12 + length
    assert set(chunks) <= {b"IHDR", b"IDAT", b"IEND"}
    assert b"Jane" not in result.data and b"adobe" not in result.data


# ------------------------------------------------------------------------------------------------ orientation


def assert_upright_quadrants(im: Image.Image) -> None:
    assert im.size == (40, 80)
    rgb = im.convert("RGB")
    assert close_to(rgb.getpixel((4, 4)), corpus.RED)
    assert close_to(rgb.getpixel((35, 4)), corpus.GREEN)
    assert close_to(rgb.getpixel((4, 75)), corpus.BLUE)
    assert close_to(rgb.getpixel((35, 75)), corpus.WHITE)


def test_exif_rotated_jpeg_is_turned_upright():
    source = corpus.rotated_jpeg()
    assert Image.open(io.BytesIO(source)).size == (80, 40)
    result = ingest_image(source)
    assert (result.width, result.height) == (40, 80)
    im = reopen(result)
    assert_upright_quadrants(im)
    assert im.getexif().get(0x0112) is None


def test_heic_with_orientation_6_is_decoded_upright():
    source = corpus.heic_rotated()
    assert sniff_format(source) == "heif"
    result = ingest_image(source)
    assert (result.source_format, result.format, result.mime) == ("heif", "jpeg", "image/jpeg")
    assert (result.width, result.height) == (40, 80)
    assert_upright_quadrants(reopen(result))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_all_eight_orientations(orientation):
    upright = corpus.quadrants()
    # What a camera stores for each orientation: the inverse of the transpose that displays it.
    inverse = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_90,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_270,
    }
    stored = upright.transpose(inverse[orientation]) if orientation in inverse else upright
    data = corpus.jpeg(stored, exif=corpus.exif_with_orientation(orientation).tobytes())
    assert_upright_quadrants(reopen(ingest_image(data)))


def test_malformed_exif_does_not_block_a_photo():
    data = corpus.jpeg(exif=b"Exif\x00\x00MM\x00*\x00\x00\xff\xff\xff\xff")
    assert ingest_image(data).width == 40


# ------------------------------------------------------------------------------------------------ formats and modes


def test_jpeg_output_is_quality_jpeg_444():
    result = ingest_image(corpus.jpeg(corpus.noise()))
    assert (result.format, result.mime, result.source_format) == ("jpeg", "image/jpeg", "jpeg")
    im = reopen(result)
    assert im.format == "JPEG" and im.mode == "RGB"
    assert JpegImagePlugin.get_sampling(im) == 0  # 4:4:4


def test_jpeg_zip_polyglot_is_accepted_as_its_jpeg_without_the_zip():
    source = corpus.polyglot_jpeg_zip()
    assert b"PK\x03\x04" in source
    result = ingest_image(source)
    assert result.format == "jpeg"
    assert b"PK\x03\x04" not in result.data and b"payload.html" not in result.data
    assert result.data.endswith(b"\xff\xd9")
    assert_upright_quadrants(reopen(result))


def test_16bit_grey_tiff_is_scaled_to_8bit_not_clipped():
    data, values = corpus.tiff_gray16()
    assert Image.open(io.BytesIO(data)).mode.startswith("I;16")
    result = ingest_image(data)
    assert (result.source_format, result.format) == ("tiff", "jpeg")
    grey = np.asarray(reopen(result).convert("L"))[0]
    expected = np.rint(values[0] / 257)
    assert np.all(np.abs(grey.astype(int) - expected) <= 2), (grey, expected)


def test_16bit_rgb_tiff_is_scaled_to_8bit():
    data, _ = corpus.tiff_rgb16()
    im = reopen(ingest_image(data))
    assert close_to(im.getpixel((1, 1)), (255, 117, 1), tol=3)


def test_16bit_png_stays_png_and_is_scaled():
    result = ingest_image(corpus.png_gray16())
    assert result.format == "png"
    assert reopen(result).getpixel((1, 0)) == (117, 117, 117)


def test_cmyk_jpeg_becomes_rgb():
    result = ingest_image(corpus.cmyk_jpeg())
    im = reopen(result)
    assert im.mode == "RGB"
    assert close_to(im.getpixel((4, 8)), corpus.WHITE)
    assert close_to(im.getpixel((28, 8)), (0, 255, 255))
    assert b"Adobe" not in result.data


def test_lossy_webp_becomes_jpeg():
    result = ingest_image(corpus.webp())
    assert (result.source_format, result.format) == ("webp", "jpeg")
    assert_upright_quadrants(reopen(result))


def test_webp_with_alpha_becomes_png_with_alpha():
    result = ingest_image(corpus.webp(alpha=True))
    assert (result.source_format, result.format, result.mime) == ("webp", "png", "image/png")
    im = reopen(result)
    assert im.mode == "RGBA"
    assert abs(im.getpixel((4, 4))[3] - 128) <= 2


def test_png_with_alpha_keeps_alpha():
    result = ingest_image(corpus.png_alpha())
    assert result.format == "png"
    im = reopen(result)
    assert im.mode == "RGBA"
    assert im.getpixel((2, 2))[3] == 0
    assert im.getpixel((15, 5)) == (255, 0, 0, 255)


def test_palette_png_with_transparency_becomes_rgba():
    im = reopen(ingest_image(corpus.png_palette_transparent()))
    assert im.mode == "RGBA"
    assert im.getpixel((0, 0))[3] == 0
    assert im.getpixel((6, 6)) == (0, 255, 0, 255)


def test_opaque_rgba_jpeg_bound_source_drops_alpha():
    im = Image.new("RGBA", (8, 8), (10, 20, 30, 255))
    result = ingest_image(corpus.encode(im, "TIFF"))
    assert result.format == "jpeg"
    assert reopen(result).mode == "RGB"


@pytest.mark.parametrize("fmt", ["WEBP", "PNG", "TIFF"])
def test_multi_frame_files_keep_the_first_frame(fmt):
    source = corpus.animated(fmt)
    assert getattr(Image.open(io.BytesIO(source)), "n_frames", 1) == 2
    im = reopen(ingest_image(source))
    assert close_to(im.convert("RGB").getpixel((8, 8)), corpus.RED)
    assert getattr(im, "n_frames", 1) == 1


def test_same_input_gives_same_output():
    data = corpus.gps_photo()
    assert ingest_image(data).sha256 == ingest_image(data).sha256


def test_globals_are_restored_after_success_and_failure():
    before = Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES
    ingest_image(corpus.jpeg())
    reject(corpus.png_bomb())
    reject(corpus.truncated_jpeg())
    assert before == (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES)


def test_limits_are_validated():
    with pytest.raises(ValueError):
        IngestLimits(max_bytes=0)
    with pytest.raises(ValueError):
        IngestLimits(max_pixels=-1)


def test_module_is_pure():
    tree = ast.parse(Path(ingest_module.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
    # Its imaging neighbours (the memory budget) are pure too; Django and the rest of intaglio are not.
    outside = {name for name in imported if name.split(".")[0] in ("django", "intaglio")}
    assert not {name for name in outside if not name.startswith("intaglio.imaging.")}


# ------------------------------------------------------------------------------------------------ fuzz

FUZZ_LIMITS = IngestLimits(max_bytes=1_000_000, max_pixels=1_000_000)
FUZZ_SETTINGS = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
SEED_JPEG = corpus.jpeg(corpus.quadrants(16, 16), exif=corpus.gps_exif().tobytes(), quality=80)
MAGICS = [
    b"\xff\xd8\xff",
    corpus.PNG_SIGNATURE,
    b"RIFF\x00\x00\x00\x00WEBP",
    b"II*\x00",
    b"MM\x00*",
    b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
    b"",
]


def _ingest_or_refuse(data: bytes) -> None:
    try:
        result = ingest_image(data, limits=FUZZ_LIMITS)
    except IngestError as err:
        assert err.code in {
            "empty_file",
            "too_large",
            "unsupported_type",
            "corrupt_image",
            "too_many_pixels",
            "decompression_bomb",
        }
        assert err.message
    else:
        assert result.format in ("jpeg", "png") and result.width * result.height <= FUZZ_LIMITS.max_pixels


@FUZZ_SETTINGS
@given(magic=st.sampled_from(MAGICS), body=st.binary(max_size=2048))
def test_fuzz_random_bytes_only_raise_ingest_error(magic, body):
    _ingest_or_refuse(magic + body)


@FUZZ_SETTINGS
@given(
    edits=st.lists(st.tuples(st.integers(0, len(SEED_JPEG) - 1), st.integers(0, 255)), min_size=1, max_size=8),
    cut=st.one_of(st.none(), st.integers(0, len(SEED_JPEG))),
)
def test_fuzz_mutated_jpeg_only_raises_ingest_error(edits, cut):
    data = bytearray(SEED_JPEG)
    for pos, value in edits:
        data[pos] = value
    _ingest_or_refuse(bytes(data[:cut] if cut is not None else data))


def test_file_sizes_under_one_kilobyte_are_shown_in_bytes():
    from intaglio.imaging import file_size_label

    assert [file_size_label(n) for n in (0, 1, 300, 1023)] == ["0 bytes", "1 byte", "300 bytes", "1023 bytes"]
    assert [file_size_label(n) for n in (1024, 40 * 1024, 3 * 1024 * 1024 // 2)] == ["1 KB", "40 KB", "1.5 MB"]
