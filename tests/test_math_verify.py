"""math-verify verifier: equivalent and non-equivalent answers, gold first, never raising, off-thread safe."""

from __future__ import annotations

import threading

import pytest

pytest.importorskip("math_verify")

from autocurriculum.verifiers.math_verify import MathVerifier

CASES = [  # (gold, completion, expected reward)
    ("72", "The answer is \\boxed{72}", 1.0),
    ("\\frac{1}{2}", "so \\boxed{0.5}", 1.0),
    ("2", "\\boxed{\\frac{4}{2}}", 1.0),
    ("x^2+2x+1", "\\boxed{(x+1)^2}", 1.0),
    ("\\sqrt{2}", "$\\sqrt{2}$", 1.0),
    ("3", "\\boxed{3.0}", 1.0),
    ("18", "#### 18", 1.0),
    ("3", "I think \\boxed{4}", 0.0),
    ("7", "\\boxed{-7}", 0.0),
    ("x^2+2x+1", "\\boxed{(x+1)^3}", 0.0),
    ("5", "garbage", 0.0),
    ("5", "", 0.0),
]


@pytest.fixture(scope="module")
def verifier():
    return MathVerifier()


@pytest.mark.parametrize(("gold", "completion", "expected"), CASES)
def test_table(verifier, gold, completion, expected):
    assert verifier.reward(completion, gold) == expected


def test_never_raises_on_odd_input(verifier):
    for completion in ["\\boxed{", "}}}{{{", "\\frac{1}{0}", "\x00", "$" * 500, None]:
        assert verifier.reward(completion, "1") in (0.0, 1.0)


def test_works_off_the_main_thread(verifier):
    results = []
    thread = threading.Thread(target=lambda: results.append(verifier.reward("\\boxed{2}", "2")))
    thread.start()
    thread.join()
    assert results == [1.0]
