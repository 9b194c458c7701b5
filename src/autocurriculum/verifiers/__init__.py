"""Verifiers turn a model completion and a gold answer into a 0/1 reward (NumPy/torch-free)."""

from autocurriculum.verifiers.base import Verifier
from autocurriculum.verifiers.exact_match import ExactMatchVerifier
from autocurriculum.verifiers.final_answer import FinalAnswerVerifier
from autocurriculum.verifiers.math_verify import MathVerifier  # needs `math-verify` only when constructed

__all__ = ["ExactMatchVerifier", "FinalAnswerVerifier", "MathVerifier", "Verifier"]
