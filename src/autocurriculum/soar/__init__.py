"""SOAR: a teacher model writes stepping-stone problems, rewarded by the student's measured gain on problems it
cannot solve (Sundaram et al., "Teaching Models to Teach Themselves", ICML 2026). See docs/soar.md.

Layout: ``config`` (every setting), ``grammar`` (what the teacher writes, the format filter), ``teacher`` (question
writers), ``hard_set`` (fail@K), ``student`` (scoring, short GRPO runs, pass@k), ``rloo`` and ``promotion`` (the
outer loop's two rules), ``loop`` (Algorithm 1), ``questions`` (promoted sets as a TaskSource), ``setup``,
``evaluation`` and ``experiment`` (the arms and their comparison), ``report``, ``plots``, ``cli``.

The names below load on first use, so the CLI can mount ``soar`` without importing torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CallableQuestionTeacher": "teacher",
    "QuestionTeacher": "teacher",
    "TinyQuestionTeacher": "teacher",
    "ParsedQuestion": "grammar",
    "QuestionFormat": "grammar",
    "SOARConfig": "config",
    "SOARLoop": "loop",
    "TeacherWroteNothing": "loop",
    "SOARSetup": "setup",
    "build_setup": "setup",
    "promoted_pool": "questions",
    "question_pool": "questions",
    "read_questions": "questions",
    "write_questions": "questions",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'autocurriculum.soar' has no attribute {name!r}")
    return getattr(importlib.import_module(f"autocurriculum.soar.{_EXPORTS[name]}"), name)
