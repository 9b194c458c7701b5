"""Teachers: the expensive source of chain-of-thought demonstrations. Every call is charged.

A demonstration is accepted only if it parses (right format and alphabet) and the outcome verifier
marks its final answer correct (one charged verifier call); otherwise, and whenever the teacher
raises, the prompt is skipped and counted in ``teacher_failures``, never a crash.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autocurriculum.autotune.problem import ArrayProblem, Problem, Prompts
from autocurriculum.core.errors import InvalidTypeError
from autocurriculum.tasks.clustered_op_chain import encode_states


class DemonstrationTeacher:
    """Base of AutoTune's teachers, the charged source of verified demonstrations.

    ``demonstrate`` returns ``(kept_rows, supervision)`` for the prompts it could serve.
    """

    name = "teacher"

    def query(self, problem: Problem, prompts: Prompts, row: int) -> Any:
        """One demonstration (text) for prompt ``row``; may raise or return garbage."""
        raise NotImplementedError

    def demonstrate(self, problem: Problem, prompts: Prompts) -> tuple[np.ndarray, Any]:
        parsed: list[Any] = []
        kept: list[int] = []
        for row in range(len(prompts)):
            problem.costs.teacher_calls += 1
            try:
                text = self.query(problem, prompts, row)
                demo = problem.parse_demonstration(prompts, row, text)
            except Exception:  # a broken teacher costs a call and a prompt, not the run
                demo = None
            if demo is None:
                problem.costs.teacher_failures += 1
                continue
            parsed.append(demo)
            kept.append(row)
        kept_rows = np.array(kept, dtype=np.int64)
        supervision = problem.stack(parsed)
        if len(kept_rows):
            ok = problem.verify(prompts.take(kept_rows), self._as_completions(problem, supervision))
            if not ok.all():
                problem.costs.teacher_failures += int((~ok).sum())
                kept_rows = kept_rows[ok]
                supervision = supervision[ok] if isinstance(supervision, np.ndarray) else _select(supervision, ok)
        problem.costs.teacher_demonstrations += len(kept_rows)
        return kept_rows, supervision

    @staticmethod
    def _as_completions(problem: Problem, supervision: Any) -> Any:
        return supervision


def _select(items: list[Any], mask: np.ndarray) -> list[Any]:
    return [x for x, keep in zip(items, mask, strict=True) if keep]


class ProgrammaticTeacher(DemonstrationTeacher):
    """The task family's own solver (the generator's demonstration); vectorised for the clustered op-chain."""

    name = "programmatic"

    def query(self, problem: Problem, prompts: Prompts, row: int) -> str | None:
        return problem.tasks(prompts.take([row]))[0].demonstration

    def demonstrate(self, problem: Problem, prompts: Prompts) -> tuple[np.ndarray, Any]:
        if not isinstance(problem, ArrayProblem):
            return super().demonstrate(problem, prompts)
        n = len(prompts)
        problem.costs.teacher_calls += n
        problem.costs.teacher_demonstrations += n
        problem.costs.verifier_calls += n  # same check as every other teacher, charged the same way
        return np.arange(n, dtype=np.int64), problem.truth(prompts)


class CallableTeacher(DemonstrationTeacher):
    """Wraps any ``prompt text -> demonstration text`` callable (an API client, a Hugging Face pipeline, ...).

    Example with transformers: ``CallableTeacher(lambda p: pipe(p, return_full_text=False)[0]["generated_text"])``.
    """

    name = "callable"

    def __init__(self, fn: Callable[[str], str]):
        if not callable(fn):
            raise InvalidTypeError(f"CallableTeacher needs a callable, got {type(fn).__name__}")
        self.fn = fn

    def query(self, problem: Problem, prompts: Prompts, row: int) -> Any:
        # problem.tasks: a family's generated task, or a prompt-file / reasoning-gym row (PoolProblem)
        return self.fn(problem.tasks(prompts.take([row]))[0].prompt)


class TinyGPTTeacher(CallableTeacher):
    """A local language model as teacher: greedy completions of a testbed ``TinyGPT`` (torch imported lazily)."""

    name = "tinygpt"

    def __init__(self, model: Any, tokenizer: Any, max_new_tokens: int):
        from autocurriculum.trainers import greedy_complete

        super().__init__(lambda prompt: greedy_complete(model, tokenizer, [prompt], max_new_tokens)[0])


class HuggingFaceTeacher(DemonstrationTeacher):
    """A Hugging Face causal LM as teacher: greedy completions of the prompt (chat template when it has one).

    Prompts of one ``demonstrate`` call are decoded in batches; each completion then goes through the same
    parse and verifier check as any teacher's, so a wrong answer is a charged failure, never training data.
    """

    name = "huggingface"

    def __init__(self, model: str, gguf_file: str | None = None, config: Any = None, tokenizer: Any = None):
        """``model``: a folder, a cached hub id or ``smollm2`` (loaded offline); or a loaded model + ``tokenizer``."""
        from autocurriculum.autotune.learners.huggingface import HuggingFaceLearner

        loaded = None if isinstance(model, str) else model
        self.learner = HuggingFaceLearner(
            model if isinstance(model, str) else "model", gguf_file, config, model=loaded, tokenizer=tokenizer
        )
        self._texts: list[str] = []

    def demonstrate(self, problem: Problem, prompts: Prompts) -> tuple[np.ndarray, Any]:
        from autocurriculum.autotune.learners.huggingface import generate_texts

        learner = self.learner
        texts = [learner.prompt_text(t.prompt) for t in problem.tasks(prompts)]
        self._texts = generate_texts(learner.base_model, learner.tokenizer, texts, learner.config) if texts else []
        return super().demonstrate(problem, prompts)

    def query(self, problem: Problem, prompts: Prompts, row: int) -> str:
        return self._texts[row]


def demonstration_text(states: np.ndarray) -> str:
    """Text form of a clustered op-chain demonstration (for callables that speak text)."""
    return encode_states(states)
