"""Fuzzing the verifiers and the task families' ``score`` (issue 13, item 5) on random strings.

Properties: ``reward`` / ``score`` never raise (any text, any non-string), return a ``float`` in [0, 1] (in fact
0.0 or 1.0), give the same value twice; a family's own demonstration scores 1 (padded with whitespace too) and a
corrupted one scores 0; a verifier accepts the gold answer written the way it parses.

Hypothesis runs derandomized and without an example database, so a CI run is reproducible.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from autocurriculum.core import ConfigError
from autocurriculum.tasks import make_task_family, score_completion, task_family_class, task_family_names
from autocurriculum.verifiers import ExactMatchVerifier, FinalAnswerVerifier, Verifier
from fuzzing import fuzz

# any Unicode, lone surrogates included (they reach a reward function from a broken detokenizer)
ANY_CHAR = st.one_of(st.characters(), st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF))
LOOKALIKES = st.sampled_from(list("|｜¦ \t\n\r\x00\u200b\u00a0\u2028\u3000=>#0123456789-+*.,{}\\$"))
TEXT = st.text(st.one_of(ANY_CHAR, LOOKALIKES), max_size=60)
NOT_TEXT = st.one_of(
    st.none(), st.integers(), st.floats(), st.binary(max_size=5), st.lists(st.text(max_size=3), max_size=2)
)
SEPARATORS = st.text(st.one_of(ANY_CHAR, LOOKALIKES), min_size=1, max_size=3)
LATEX = st.lists(
    st.sampled_from(
        [
            *"0123456789",
            *"xyab+-*/^_=(),.!",
            " ",
            "{",
            "}",
            "$",
            "\\frac{",
            "\\boxed{",
            "\\sqrt{",
            "\\pi",
            "\\infty",
            "\\left(",
            "\\right)",
            "\\text{",
            "\\%",
            "#### ",
            "\\begin{pmatrix}",
            "&",
            "\\\\",
        ]
    ),
    max_size=14,
).map("".join)


def check_reward(verifier: Verifier, completion: Any, gold: Any) -> float:
    """The reward of one pair, checked: a float in [0, 1] (0 or 1 for these verifiers), the same twice."""
    first = verifier.reward(completion, gold)
    assert type(first) is float and first in (0.0, 1.0), (completion, gold, first)
    assert verifier.reward(completion, gold) == first, (completion, gold)
    return first


# ----------------------------------------------------------------- string verifiers
@given(TEXT, TEXT, SEPARATORS)
@fuzz(400)
def test_string_verifiers_score_any_text_as_zero_or_one(completion: str, gold: str, separator: str) -> None:
    """400 examples: random text as completion and as gold, any separator, exact-match and final-answer."""
    for verifier in (ExactMatchVerifier(), FinalAnswerVerifier(), FinalAnswerVerifier(separator)):
        check_reward(verifier, completion, gold)
        check_reward(verifier, gold, completion)
        parsed = verifier.parse(completion)
        assert parsed is None or (isinstance(parsed, str) and parsed == parsed.strip() and parsed)


@given(st.one_of(NOT_TEXT, TEXT), st.one_of(NOT_TEXT, TEXT))
@fuzz(150)
def test_non_text_scores_zero(completion: Any, gold: Any) -> None:
    """150 examples: None, numbers, bytes or lists as completion or gold score 0 instead of raising."""
    assume(not (isinstance(completion, str) and isinstance(gold, str)))
    for verifier in (ExactMatchVerifier(), FinalAnswerVerifier()):
        assert check_reward(verifier, completion, gold) == 0.0


@given(TEXT, TEXT, SEPARATORS, st.sampled_from(["", " ", "\n", "\t \r\n"]))
@fuzz(300)
def test_gold_written_as_parsed_scores_one(scratchpad: str, gold: str, separator: str, pad: str) -> None:
    """300 examples: the gold answer (stripped, non-empty) as the whole completion, or after the last separator."""
    tail = f"{separator}{pad}{gold.strip()}{pad}"
    if gold.strip() and separator not in tail[1:]:  # the separator written here is the last one
        assert check_reward(FinalAnswerVerifier(separator), scratchpad + tail, gold.strip()) == 1.0
    gold = gold.strip()
    assume(gold)
    assert check_reward(ExactMatchVerifier(), f"{pad}{gold}{pad}", gold) == 1.0
    assert check_reward(ExactMatchVerifier(), f"{gold}#", gold) == 0.0  # a near miss is not a hit


@given(st.one_of(st.just(""), NOT_TEXT))
@fuzz(60)
def test_final_answer_separator_must_be_non_empty_text(separator: Any) -> None:
    """60 examples: a verifier built with a non-string separator is refused with a ValueError naming it."""
    with pytest.raises(ValueError, match="separator"):
        FinalAnswerVerifier(separator)


# ----------------------------------------------------------------- math-verify
@pytest.fixture(scope="module")
def math_verifier() -> Verifier:
    pytest.importorskip("math_verify")
    from autocurriculum.verifiers import MathVerifier

    return MathVerifier(timeout_seconds=2)


@given(st.one_of(LATEX, TEXT), st.one_of(LATEX, TEXT))
@fuzz(150)
def test_math_verify_scores_any_latex_as_zero_or_one(math_verifier: Verifier, completion: str, gold: str) -> None:
    """150 examples: random LaTeX-ish or arbitrary text as completion and gold, and None on either side."""
    check_reward(math_verifier, completion, gold)
    check_reward(math_verifier, completion, None)
    check_reward(math_verifier, None, gold)


@given(st.integers(-(10**6), 10**6), st.integers(1, 999), st.text(st.sampled_from("ab ,.:"), max_size=12))
@fuzz(80)
def test_math_verify_accepts_the_boxed_gold(math_verifier: Verifier, p: int, q: int, words: str) -> None:
    """80 examples: ``\\boxed{n}`` for gold n and ``\\boxed{\\frac{p}{q}}`` for gold p/q score 1, n + 1 scores 0."""
    assert check_reward(math_verifier, f"{words} \\boxed{{{p}}}", str(p)) == 1.0
    assert check_reward(math_verifier, f"{words} \\boxed{{{p + 1}}}", str(p)) == 0.0
    assert check_reward(math_verifier, f"so $\\boxed{{\\frac{{{p}}}{{{q}}}}}$", f"\\frac{{{p}}}{{{q}}}") == 1.0


# ----------------------------------------------------------------- task families
def _value_for(annotation: Any, default: Any) -> st.SearchStrategy[Any]:
    """Random values for one config field of a task family, near the sizes the families use."""
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        return st.integers(0, 16)
    if annotation is float:
        return st.floats(0.0, 3.0)
    if annotation is str:
        return st.text(st.sampled_from("+-*x"), min_size=1, max_size=3)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return st.one_of(st.none(), st.integers(1, 16))
    return st.just(default)


@st.composite
def family_tasks(draw: Any) -> tuple[Any, Any]:
    """A registered family with random (valid) settings and one of its tasks at a random level and index."""
    name = draw(st.sampled_from(task_family_names()))
    config_class = task_family_class(name).config_class
    hints = typing.get_type_hints(config_class)
    values = {
        f.name: draw(_value_for(hints[f.name], f.default))
        for f in dataclasses.fields(config_class)
        if draw(st.booleans())
    }
    try:
        family = make_task_family(name, values)
    except ConfigError:
        assume(False)
    level = draw(st.sampled_from(family.levels))
    return family, family.generate(level, draw(st.integers(0, 10**9)))


@given(family_tasks(), TEXT, st.sampled_from(["", " ", "\n", " \t\n"]))
@fuzz(200)
def test_family_scores_random_text_and_its_own_demonstration(case: tuple[Any, Any], completion: str, pad: str) -> None:
    """200 examples: every registered family, random settings, level and index; random text as completion."""
    family, task = case
    for text in (completion, task.answer, f"{completion}{task.answer}"):
        first = family.score(task, text)
        assert type(first) is float and 0.0 <= first <= 1.0 and not math.isnan(first)
        assert family.score(task, text) == first
        assert score_completion(task, text) == first  # found through the task's category
    assert family.score(task, None) == 0.0  # type: ignore[arg-type]
    demonstration = task.demonstration if task.demonstration is not None else task.answer
    assert family.score(task, demonstration) == 1.0, (task, demonstration)
    assert family.score(task, f"{pad}{demonstration}{pad}") == 1.0
    assert family.score(task, f"{demonstration}#") == 0.0  # the last answer character changed: a miss
