"""Fuzzing config loading (issue 13, item 5): random YAML/JSON files and random values for every config.

Covered: ``load_config_file`` on random text and bytes, ``ExperimentConfig.from_values``,
``SOARConfig.from_values`` and ``make_config(name, values)`` for every registered strategy. Properties:

* a file either loads as a mapping or raises a ``ConfigError`` naming the file;
* random values either build a config, or raise a ``ConfigError`` whose message names the source (the file) and
  a field the values set; never another exception type (TypeError, KeyError, OverflowError, ...);
* a built config passes its own ``validate()``, holds only finite numbers, and keeps an integer exactly as given.

Hypothesis runs derandomized and without an example database, so a CI run is reproducible.
"""

from __future__ import annotations

import dataclasses
import json
import math
import tempfile
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from hypothesis import example, given
from hypothesis import strategies as st

import autocurriculum.strategies  # noqa: F401 - registers the strategies
from autocurriculum.core import ConfigError, load_config_file, make_config, strategy_class, strategy_names
from autocurriculum.experiments import ExperimentConfig
from autocurriculum.soar.config import SOARConfig
from autocurriculum.tasks import task_family_class, task_family_names
from fuzzing import fuzz

NAMES = [*strategy_names(), *task_family_names(), "nope", "oracle", ""]
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([0, 1, -1, 2, 7, 10**30, -(10**30), 10**400, 2**63 + 1]),
    st.integers(-10, 10**6),
    st.floats(),  # NaN and infinities included
    st.sampled_from(
        ["", "abc", "1", "2.5", "-3", "1e400", "nan", "-inf", "true", "no", "cuda:0", "auto", "a,b", " 4 "]
    ),
    st.lists(st.one_of(st.integers(-3, 3), st.sampled_from(NAMES)), max_size=3),
    st.dictionaries(st.one_of(st.sampled_from(["a", "seed", "strategy"]), st.integers(0, 3)), st.integers(0, 3)),
)
KEYS = st.one_of(st.from_regex(r"[a-z_]{1,8}", fullmatch=True), st.integers(-2, 3), st.sampled_from(["seed", "1.5"]))


def _near(annotation: Any, default: Any) -> st.SearchStrategy[Any]:
    """Values of the field's type around its default: where the valid range usually ends."""
    if annotation == list[str]:  # strategies, tasks: registered names, unknown ones, repeats
        return st.lists(st.sampled_from(NAMES), max_size=3)
    if annotation == list[int]:
        return st.lists(st.integers(-2, 40), max_size=4)
    if isinstance(default, bool):
        return st.booleans()
    if isinstance(default, (int, float)):
        return st.sampled_from([default, -default, default + 1, default - 1, default * 10, default / 10, 0, 1])
    if isinstance(default, str):
        return st.sampled_from([default, default.upper(), f" {default}", default[:1], *NAMES])
    return st.just(default)


def _dict_values(name: str) -> st.SearchStrategy[Any]:
    """``strategy_options`` / ``task_options``: names mapped to option mappings (or to junk)."""
    if name == "strategy_options":
        labels, config_of = [*strategy_names(), "variant"], lambda label: strategy_class(label).config_class
    else:
        labels, config_of = task_family_names(), lambda label: task_family_class(label).config_class

    def options(label: str) -> st.SearchStrategy[Any]:
        known = [f.name for f in dataclasses.fields(config_of(label))] if label != "variant" else ["seed"]
        keys = st.one_of(st.sampled_from([*known, "strategy"]), KEYS)
        return st.one_of(JUNK, st.dictionaries(keys, st.one_of(JUNK, st.sampled_from(NAMES)), max_size=3))

    return st.sampled_from(labels).flatmap(lambda label: options(label).map(lambda value: {label: value}))


@dataclasses.dataclass(frozen=True)
class Leaf:
    path: tuple[str, ...]
    annotation: Any
    default: Any


def leaves(config_class: type, prefix: tuple[str, ...] = ()) -> list[Leaf]:
    """Every settable field of a (nested) config class, sections expanded."""
    hints = typing.get_type_hints(config_class)
    found = []
    for f in dataclasses.fields(config_class):
        annotation = hints[f.name]
        if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
            found.extend(leaves(annotation, (*prefix, f.name)))
            continue
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = None
        found.append(Leaf((*prefix, f.name), annotation, default))
    return found


def _set(values: dict[Any, Any], path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        inner = values.get(key)
        if not isinstance(inner, dict):
            inner = values[key] = {}
        values = inner
    values[path[-1]] = value


def _keys(value: Any) -> set[str]:
    """Every mapping key in ``value``, at any depth, as text."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            found.add(str(key))
            found |= _keys(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= _keys(inner)
    return found


@st.composite
def mutations(draw: Any, config_class: type) -> tuple[dict[Any, Any], list[tuple[Leaf, Any]], set[str]]:
    """Defaults with one to three fields set to random values, sometimes an unknown key: (values, set, names)."""
    fields = leaves(config_class)
    values: dict[Any, Any] = {}
    changed: list[tuple[Leaf, Any]] = []
    names: set[str] = set()
    structural = [leaf for leaf in fields if leaf.annotation not in (int, float, bool)] or fields
    pick = st.one_of(st.sampled_from(fields), st.sampled_from(structural))  # lists, strings, mappings: more often
    for leaf in draw(st.lists(pick, min_size=1, max_size=3, unique_by=lambda leaf: leaf.path)):
        if typing.get_origin(leaf.annotation) is dict:
            value = draw(_dict_values(leaf.path[-1]))
            names |= _keys(value)
        else:
            typed = draw(st.booleans())  # half typed values near the default, half junk of any type
            value = draw(_near(leaf.annotation, leaf.default) if typed else JUNK)
        _set(values, leaf.path, value)
        changed.append((leaf, value))
        names.add(leaf.path[-1])
    if draw(st.integers(0, 4)) == 0:  # an unknown field, at the top or inside a section
        section = draw(st.sampled_from([(), *{leaf.path[:-1] for leaf in fields if len(leaf.path) > 1}]))
        key = draw(KEYS)
        _set(values, (*section, key), draw(JUNK))
        names.add(str(key))
    return values, changed, names


def _write(root: Path, values: dict[Any, Any], as_json: bool) -> Path:
    if as_json:
        path = root / "config.json"
        path.write_text(json.dumps(values))  # int keys become strings, NaN a literal: both are read back
    else:
        path = root / "config.yaml"
        path.write_text(yaml.safe_dump(values))
    return path


def _numbers(value: Any) -> list[float]:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [n for f in dataclasses.fields(value) for n in _numbers(getattr(value, f.name))]
    if isinstance(value, (list, tuple)):
        return [n for v in value for n in _numbers(v)]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [float(value) if isinstance(value, float) or abs(value) < 2**1000 else 0.0]
    return []


def check_build(
    build: Callable[[dict[Any, Any], str], Any], values: dict[Any, Any], source: str, names: set[str]
) -> Any | None:
    """Build, then check the outcome: a valid config, or a ConfigError naming ``source`` and one of ``names``."""
    try:
        config = build(values, source)
    except ConfigError as exc:
        message = str(exc)
        assert source in message, message
        named = (name in message or repr(name)[1:-1] in message for name in names)  # keys may be quoted by repr
        assert any(named), (sorted(names), message)
        return None
    config.validate()  # a config that exists is valid
    assert all(math.isfinite(n) for n in _numbers(config)), config
    return config


def _get(config: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        config = getattr(config, name)
    return config


def check_kept(config: Any, changed: list[tuple[Leaf, Any]]) -> None:
    """An integer given for an integer field is kept exactly (no round trip through float)."""
    for leaf, value in changed:
        is_int = leaf.annotation is int or leaf.annotation == (int | None)
        if is_int and isinstance(value, int) and not isinstance(value, bool):
            assert _get(config, leaf.path) == value, (leaf.path, value, _get(config, leaf.path))


def build_experiment(values: dict[Any, Any], source: str) -> ExperimentConfig:
    return ExperimentConfig.from_values(values, source=source)


def build_soar(values: dict[Any, Any], source: str) -> SOARConfig:
    return SOARConfig.from_values(values, source=source)


def check_file(
    build: Callable[[dict[Any, Any], str], Any], case: tuple[dict[Any, Any], list[Any], set[str]], as_json: bool
) -> Any | None:
    """Write the values to a YAML or JSON file, read it with ``load_config_file`` and check the build."""
    values, changed, names = case
    with tempfile.TemporaryDirectory() as folder:
        path = _write(Path(folder), values, as_json)
        config = check_build(build, load_config_file(path), str(path), names)
    if config is not None:
        check_kept(config, changed)
    return config


def _case(values: dict[Any, Any], *names: str) -> tuple[dict[Any, Any], list[Any], set[str]]:
    """A hand-written case (what Hypothesis found, kept as a regression example)."""
    return values, [], set(names)


INT = Leaf(("seed",), int, 0)


@given(case=mutations(ExperimentConfig), as_json=st.booleans())
@example(case=_case({"strategies": ["nope"]}, "strategies"), as_json=False)
@example(case=_case({"strategy_options": {"uniform": "nan"}}, "uniform"), as_json=False)
@example(case=_case({"strategy_options": {"thompson": {"strategy": None}}}, "strategy"), as_json=True)
@example(case=_case({"testbed": {"tasks": ["nope"]}}, "tasks"), as_json=False)
@example(case=_case({"testbed": {"task_options": {"op_chain": {"max_length": math.nan}}}}, "max_length"), as_json=True)
@example(case=_case({"rl": {"rollouts": 10**400}}, "rollouts"), as_json=False)
@example(case=_case({"model": {"rope_base": math.inf}}, "rope_base"), as_json=False)
@example(case=_case({1: 2, "x": 3}, "1", "x"), as_json=False)
@example(case=({"seeds": [2**70]}, [], {"seeds"}), as_json=False)
@fuzz(200)
def test_experiment_config_from_random_files(case: tuple[dict[Any, Any], list[Any], set[str]], as_json: bool) -> None:
    """200 examples (+ 9 pinned): one to three fields of ExperimentConfig (sections, per-strategy and per-family
    option mappings included) set to random values, written as YAML or JSON and read back."""
    check_file(build_experiment, case, as_json)


@given(case=mutations(SOARConfig), as_json=st.booleans())
@example(case=_case({"seed": "nan"}, "seed"), as_json=False)
@example(case=_case({"student": {"seed": "1e400"}}, "seed"), as_json=False)
@example(case=({"seed": 10**30}, [(INT, 10**30)], {"seed"}), as_json=False)
@example(case=_case({"outer": {"promotion_threshold": math.nan}}, "promotion_threshold"), as_json=True)
@example(case=_case({"student": {"model": {"rope_base": -math.inf}}}, "rope_base"), as_json=False)
@fuzz(200)
def test_soar_config_from_random_files(case: tuple[dict[Any, Any], list[Any], set[str]], as_json: bool) -> None:
    """200 examples (+ 5 pinned): one to three fields of SOARConfig (every stage's section) set to random
    values, written as YAML or JSON and read back."""
    check_file(build_soar, case, as_json)


STRATEGY_CASES = st.sampled_from(strategy_names()).flatmap(
    lambda name: mutations(strategy_class(name).config_class).map(lambda case: (name, case))
)


@given(named=STRATEGY_CASES, as_json=st.booleans())
@example(named=("thompson", ({"seed": 10**400}, [], {"seed"})), as_json=False)
@example(named=("thompson", ({"seed": 2**63 + 1}, [(INT, 2**63 + 1)], {"seed"})), as_json=False)
@example(named=("adarft", ({"d_min": -math.inf}, [], {"d_min"})), as_json=False)
@example(named=("uniform", ({"seed": math.inf, 0: 1, "z": 2}, [], {"seed", "0", "z"})), as_json=False)
@fuzz(300)
def test_strategy_configs_from_random_files(named: tuple[str, Any], as_json: bool) -> None:
    """300 examples (+ 4 pinned) over every registered strategy (about 15 each): random values for the fields of
    its config, through ``make_config(name, values)``."""
    name, case = named
    config = check_file(lambda values, source: make_config(name, values, source=source), case, as_json)
    assert config is None or isinstance(config, strategy_class(name).config_class)


# ----------------------------------------------------------------- random files
YAML_TOKENS = st.sampled_from(
    [
        "seed: ",
        "rl:\n  ",
        "rollouts: ",
        "- ",
        "{",
        "}",
        "[",
        "]",
        ": ",
        ", ",
        "\n",
        "  ",
        "&a ",
        "*a",
        "!!python/object:os.system ",
        "'",
        '"',
        "#",
        "1",
        "-1",
        ".nan",
        ".inf",
        "1e400",
        "9" * 400,
        "null",
        "yes",
        "strategies: ",
        "testbed: ",
        "tasks: ",
        "x",
        "\t",
        "%YAML 1.1\n",
        "---\n",
        "...\n",
    ]
)
RAW = st.one_of(
    st.lists(YAML_TOKENS, max_size=20).map(lambda parts: "".join(parts).encode()),
    st.text(max_size=40).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.binary(max_size=40),
)


@given(raw=RAW, suffix=st.sampled_from([".yaml", ".yml", ".json", ".txt"]))
@fuzz(300)
def test_random_config_files_load_or_name_the_file(raw: bytes, suffix: str) -> None:
    """300 examples: YAML-ish token soup, random text (lone surrogates included) and random bytes (not UTF-8)
    under YAML or JSON names: a mapping, or a ConfigError naming the file; a mapping then builds every config
    or fails with a ConfigError naming the file and one of its keys."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"config{suffix}"
        path.write_bytes(raw)
        try:
            values = load_config_file(path)
        except ConfigError as exc:
            assert str(path) in str(exc), str(exc)
            return
        assert isinstance(values, dict)
        names = _keys(values)
        for build in (
            build_experiment,
            build_soar,
            lambda v, s: make_config("thompson", v, source=s),
            lambda v, s: make_config("uniform", v, source=s),
        ):
            check_build(build, values, str(path), names)
