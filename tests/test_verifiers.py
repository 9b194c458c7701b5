"""Verifiers must score arbitrary model output as 0/1 and never raise."""

from __future__ import annotations

import random

import pytest

from autocurriculum.verifiers import ExactMatchVerifier, FinalAnswerVerifier, Verifier

ALPHABET = (
    [chr(c) for c in range(32, 127)]
    + list("\t\n\r\x00\x0b\x0c")
    + list("é中文🙂\u200b\u00a0\u2028\u3000｜|||")  # unicode, zero-width and fullwidth look-alikes
)

VERIFIERS = [ExactMatchVerifier(), FinalAnswerVerifier(), FinalAnswerVerifier(separator="=>")]


def random_strings(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = ["", " ", "|", "||", "\n|\n"]
    while len(out) < n:
        length = rng.choice([0, 1, 2, 3, 5, 10, 40, 200])
        out.append("".join(rng.choice(ALPHABET) for _ in range(length)))
    return out


@pytest.mark.parametrize("verifier", VERIFIERS, ids=repr)
def test_fuzz_never_raises_and_returns_binary(verifier: Verifier) -> None:
    strings = random_strings(2000, seed=7)
    golds = ["9", "9380000", "0", "|", ""]
    for i, text in enumerate(strings):
        gold = golds[i % len(golds)]
        assert verifier.reward(text, gold) in (0.0, 1.0)
        parsed = verifier.parse(text)
        assert parsed is None or isinstance(parsed, str)
        # A random string used as gold must not break it either.
        assert verifier.reward(gold, text) in (0.0, 1.0)


@pytest.mark.parametrize("verifier", VERIFIERS, ids=repr)
@pytest.mark.parametrize("bad", [None, 7, 1.5, b"9", ["9"], object()])
def test_non_string_completion_scores_zero(verifier: Verifier, bad: object) -> None:
    assert verifier.reward(bad, "9") == 0.0  # type: ignore[arg-type]
    assert verifier.reward("9", bad) == 0.0  # type: ignore[arg-type]


def test_exact_match() -> None:
    v = ExactMatchVerifier()
    assert v.reward("9380000", "9380000") == 1.0
    assert v.reward("  9380000\n", "9380000") == 1.0
    assert v.parse("  42 \n") == "42"
    assert v.parse("   ") is None
    for near_miss in ["938000", "93800000", "9380001", "9 380000", "0000839", "", "9380000|"]:
        assert v.reward(near_miss, "9380000") == 0.0, near_miss


def test_final_answer() -> None:
    v = FinalAnswerVerifier()
    assert v.parse("749|9") == "9"
    assert v.parse("74|9|3 ") == "3"  # the last separator wins
    assert v.parse("749") is None
    assert v.parse("749|") is None
    assert v.parse("749|  \n") is None
    assert v.reward("749|9", "9") == 1.0
    assert v.reward("000|9", "9") == 1.0  # outcome verifier: the scratchpad is not checked
    assert v.reward(" 749 | 9 \n", "9") == 1.0
    for near_miss in ["749|8", "749|99", "749", "9", "749|9|", "749|19", "7499"]:
        assert v.reward(near_miss, "9") == 0.0, near_miss


def test_custom_separator_and_validation() -> None:
    v = FinalAnswerVerifier(separator="=>")
    assert v.reward("a => b => 12", "12") == 1.0
    assert v.reward("12", "12") == 0.0
    with pytest.raises(ValueError, match="separator"):
        FinalAnswerVerifier(separator="")


def test_exceptions_inside_parse_become_zero() -> None:
    class Broken(Verifier):
        def parse(self, completion: str) -> str | None:
            raise RuntimeError("boom")

    class Weird(Verifier):
        def parse(self, completion: str) -> str | None:
            return completion

        def verify(self, gold: str, parsed: str | None) -> bool:
            return 1 / 0 > 0

    assert Broken().reward("9", "9") == 0.0
    assert Weird().reward("9", "9") == 0.0
