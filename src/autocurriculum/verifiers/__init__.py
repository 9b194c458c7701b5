"""Verifiers turn a model completion and a gold answer into a 0/1 reward (NumPy/torch-free)."""

from autocurriculum.verifiers.base import Verifier
from autocurriculum.verifiers.exact_match import ExactMatchVerifier
from autocurriculum.verifiers.final_answer import FinalAnswerVerifier

__all__ = ["ExactMatchVerifier", "FinalAnswerVerifier", "Verifier"]
