"""intaglio.imaging.jewellery.analysis on images rendered by bench/jewellery_set.py (loaded by path)."""

from __future__ import annotations

import ast
import importlib.util
import io
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from intaglio.imaging.jewellery import analyse_image, analyse_references, analysis, combine
from intaglio.imaging.jewellery.vocabulary import UNKNOWN
from intaglio.providers.attributes import Attributes

REPO = Path(__file__).resolve().parents[2]


def load_set_module():
    name = "jewellery_set_for_tests"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "bench" / "jewellery_set.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


JS = load_set_module()


def render(seed: int = 0, **fields) -> np.ndarray:
    spec = JS.Spec(**{"finish": "polished", "width": 512, "height": 512, **fields})
    return JS.render_sample(spec, np.random.default_rng(seed))


def png(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG")
    return buf.getvalue()


def jpeg(rgb: np.ndarray, quality: int = 92) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def rules(data: bytes) -> dict:
    """The answer as the rules give it, before calibration (confidences on the rules' own scale)."""
    return analyse_image(analysis.decode_image(data), calibrated=False)


@pytest.mark.parametrize("metal", ["yellow_gold", "white_metal", "rose_gold"])
@pytest.mark.parametrize("seed", [0, 1])
def test_plain_ring_metals_are_told_apart(metal, seed):
    data = jpeg(render(seed, type="ring", metal=metal, stones="none", shot="packshot"))
    answer = analyse_references([data])
    assert answer["metal"]["value"] == metal, answer["metal"]
    assert rules(data)["metal"]["confidence"] >= 0.5


def test_two_tone_is_mixed():
    answer = analyse_references([jpeg(render(3, type="bracelet", metal="mixed", stones="none", shot="packshot"))])
    assert answer["metal"]["value"] == "mixed", answer["metal"]


def test_red_stones_are_found_and_counted():
    rgb = render(0, type="earrings", metal="yellow_gold", stones="red", shot="packshot", variant="stud", cut="round")
    answer = analyse_references([jpeg(rgb)])
    assert answer["stones"], answer
    first = answer["stones"][0]
    assert first["colour"] == "red"
    assert first["count"] == 2
    assert first["cut"] in ("round", UNKNOWN)
    assert rules(jpeg(rgb))["stones_confidence"] >= 0.5
    assert answer["type"]["value"] == "earrings"


@pytest.mark.parametrize(("colour", "seed"), [("blue", 0), ("green", 1), ("purple", 2)])
def test_a_solitaire_stone_is_named(colour, seed):
    rgb = render(seed, type="ring", metal="white_metal", stones=colour, shot="packshot", variant="solitaire")
    answer = analyse_references([jpeg(rgb)])
    assert [s["colour"] for s in answer["stones"]][:1] == [colour]
    assert answer["stones"][0]["count"] == 1


def test_a_plain_band_has_no_stones():
    data = jpeg(render(2, type="ring", metal="yellow_gold", stones="none", shot="packshot"))
    answer = analyse_references([data])
    assert answer["stones"] == []
    assert rules(data)["stones_confidence"] >= 0.5
    assert answer["type"]["value"] == "ring"


def test_a_sketch_names_no_metal():
    rgb = render(1, type="ring", metal="yellow_gold", stones="none", shot="sketch")
    answer = analyse_references([png(rgb)])
    assert answer["shots"][0]["value"] == "sketch"
    assert answer["metal"] == {"value": UNKNOWN, "confidence": 0.0}
    assert answer["stones_confidence"] < 0.5


@pytest.mark.parametrize(
    ("shot", "seed"), [("packshot", 0), ("cad_render", 0), ("lifestyle", 1), ("on_model", 0), ("sketch", 0)]
)
def test_shot_types(shot, seed):
    rgb = render(seed, type="pendant", metal="yellow_gold", stones="none", shot=shot)
    data = png(rgb) if shot in ("cad_render", "sketch") else jpeg(rgb)
    assert analyse_references([data])["shots"][0]["value"] == shot


def test_random_noise_is_not_read_with_confidence():
    rng = np.random.default_rng(5)
    answer = analyse_references([png(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8))])
    for attr in ("type", "metal", "finish"):
        assert answer[attr]["value"] == UNKNOWN or answer[attr]["confidence"] < 0.5, answer[attr]
    assert answer["shots"][0]["confidence"] < 0.5
    assert answer["stones"] == [] or answer["stones_confidence"] < 0.5


def test_a_blank_frame_is_unknown():
    answer = analyse_image(np.full((300, 400, 3), 245, np.uint8))
    assert answer["type"]["value"] == UNKNOWN
    assert answer["metal"]["value"] == UNKNOWN
    assert answer["stones"] == []


def test_answers_validate_and_stay_in_the_vocabulary():
    images = [
        jpeg(render(0, type="brooch", metal="rose_gold", stones="pink", shot="lifestyle")),
        png(render(4, type="necklace", metal="white_metal", stones="colourless", shot="cad_render")),
        jpeg(render(2, type="bracelet", metal="mixed", stones="green", shot="on_model")),
    ]
    answer = analyse_references(images)
    Attributes.model_validate(answer)
    assert len(answer["shots"]) == 3
    for one in images:
        Attributes.model_validate(analyse_references([one]))
    vocab = analysis.VOCABULARY
    assert answer["type"]["value"] in vocab["type"] + (UNKNOWN,)
    assert all(s["colour"] in vocab["stone_colour"] + (UNKNOWN,) for s in answer["stones"])
    assert all(s["cut"] in vocab["stone_cut"] + (UNKNOWN,) for s in answer["stones"])


def test_same_bytes_same_answer():
    data = jpeg(render(6, type="pendant", metal="rose_gold", stones="blue", shot="packshot"))
    assert analyse_references([data]) == analyse_references([data])


def test_combine_votes_by_confidence_and_merges_stones():
    def one(metal, mconf, stones, shot="packshot"):
        return {
            "type": {"value": "ring", "confidence": 0.7},
            "metal": {"value": metal, "confidence": mconf},
            "stones": stones,
            "stones_confidence": 0.8 if stones else 0.6,
            "finish": {"value": "polished", "confidence": 0.5},
            "shots": [{"value": shot, "confidence": 0.9}],
        }

    red = {"colour": "red", "count": 1, "cut": "oval", "confidence": 0.6}
    red_again = {"colour": "red", "count": 3, "cut": "round", "confidence": 0.9}
    merged = combine(
        [
            one("yellow_gold", 0.9, [red]),
            one("rose_gold", 0.4, [red_again]),
            one(UNKNOWN, 0.0, [], "sketch"),
        ]
    )
    Attributes.model_validate(merged)
    assert merged["metal"]["value"] == "yellow_gold"
    assert merged["metal"]["confidence"] < 0.9  # a dissenting view costs confidence
    assert merged["stones"] == [{"colour": "red", "count": 3, "cut": "round", "confidence": 0.9}]
    assert [s["value"] for s in merged["shots"]] == ["packshot", "packshot", "sketch"]


def test_bad_input():
    with pytest.raises(ValueError):
        analyse_references([])
    with pytest.raises(ValueError):
        analyse_references([b"not an image"])


@pytest.mark.parametrize("name", ["analysis.py", "packshot.py", "__init__.py", "vocabulary.py"])
def test_modules_are_pure(name):
    tree = ast.parse((Path(analysis.__file__).parent / name).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
    assert not {m for m in imported if m.split(".")[0] == "django"}
    assert not {m for m in imported if m.startswith("intaglio") and not m.startswith("intaglio.imaging")}
