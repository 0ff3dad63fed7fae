"""The house in layers: no import cycle between apps or inside one, counting imports inside functions, and a map
for newcomers (README, docs/architecture.md) that names every package. `lint-imports` (run by script/test) checks
the direction of each import; these tests check what a layers contract cannot: cycles."""

from __future__ import annotations

import re
from pathlib import Path

import grimp
import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "intaglio"


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    # grimp reads every import statement in the source, those inside functions and under TYPE_CHECKING included.
    return grimp.build_graph("intaglio", cache_dir=None)


def app_of(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2])


def import_cycles(edges: list[tuple[str, str]]) -> list[list[str]]:
    directed = nx.DiGraph(edges)
    return sorted(sorted(component) for component in nx.strongly_connected_components(directed) if len(component) > 1)


def module_edges(graph: grimp.ImportGraph) -> list[tuple[str, str]]:
    return [
        (importer, imported)
        for importer in graph.modules
        for imported in graph.find_modules_directly_imported_by(importer)
        if imported.startswith("intaglio.") and imported != importer
    ]


def test_no_import_cycle_between_apps(graph):
    edges = [(app_of(a), app_of(b)) for a, b in module_edges(graph) if app_of(a) != app_of(b)]
    assert import_cycles(edges) == []


def test_no_import_cycle_inside_any_app(graph):
    edges = [(a, b) for a, b in module_edges(graph) if app_of(a) == app_of(b)]
    assert import_cycles(edges) == []


def test_the_cycle_check_sees_imports_inside_functions(graph):
    # jobs/apps.py registers its kinds with an import inside ready(): the graph must hold that edge, or a cycle
    # hidden in a function would pass unseen.
    assert "intaglio.jobs.renditions" in graph.find_modules_directly_imported_by("intaglio.jobs.apps")
    assert import_cycles([("a.x", "a.y"), ("a.y", "a.z"), ("a.z", "a.x")]) == [["a.x", "a.y", "a.z"]]


def packages() -> list[str]:
    return sorted(path.parent.name for path in SRC.glob("*/__init__.py"))


def test_the_readme_layout_names_every_package():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("## Developing") :]
    missing = [name for name in packages() if not re.search(rf"^\s+{name}/", layout, flags=re.M)]
    assert missing == [], f"README's layout (## Developing) does not name: {missing}"


def test_the_architecture_map_names_every_package():
    architecture = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = [name for name in packages() if f"`{name}`" not in architecture and f"{name}/" not in architecture]
    assert missing == [], f"docs/architecture.md does not name: {missing}"


IMAGING_PUBLIC = {
    "intaglio.imaging",
    "intaglio.imaging.artwork",
    "intaglio.imaging.jewellery",
    "intaglio.imaging.calibration",
    "intaglio.imaging.artwork.cli",  # the `intaglio engrave` command's entry point
    "intaglio.imaging.calibration.cli",  # the `intaglio calibrate` command's entry point
    "intaglio.imaging.jewellery.vocabulary",  # the words analysis answers in: constants, no code
}


def test_imaging_is_used_only_through_its_packages(graph):
    """Like scikit-image: the modules behind imaging's packages are private; the rest of Intaglio imports the names
    each package's __init__ exports."""
    reaching_in = sorted(
        (importer, imported)
        for importer, imported in module_edges(graph)
        if imported.startswith("intaglio.imaging.")
        and not importer.startswith("intaglio.imaging")
        and imported not in IMAGING_PUBLIC
    )
    assert reaching_in == []
