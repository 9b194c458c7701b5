"""Question teachers: what writes questions and their answers, and (for a trainable one) how it is RLOO-updated.

``TinyQuestionTeacher`` is the testbed teacher: a copy of the warm-started student (SOAR's teacher starts from the
base model), taught by SFT to write grammar questions after the prompt ``C``; it goes on to answer its own question
in the same generation (scratchpad, ``|``, digit) with what the base model knows, or, with ``pretrain_answers:
grammar``, with what the grammar's solutions taught it. The outer loop trains it
with RLOO: every token of a rollout, question and answer, carries its set's advantage. ``CallableQuestionTeacher``
wraps any prompt -> text callable (a Hugging Face pipeline, an API client) returning ``question#answer``, so the
loop's scoring, promotion and question sets work with a real model; it is not trained here (its update belongs to
the user's RL framework: ``history-*.jsonl`` holds every set's reward and advantage for that).
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch

from autocurriculum.core.errors import InvalidArgumentError
from autocurriculum.soar.config import TeacherConfig
from autocurriculum.soar.grammar import (
    QUESTION_END,
    TEACHER_PROMPT,
    grammar_solutions,
    pretraining_corpus,
    question_length,
)
from autocurriculum.tasks.op_chain import OpChainConfig
from autocurriculum.trainers import CharTokenizer, Generation, SFTTrainer, TinyGPT, generate, policy_loss
from autocurriculum.trainers.sequences import completion_logprobs, left_pad, right_pad
from autocurriculum.trainers.tokenizer import PAD_ID

QA_SEPARATOR = "#"  # between question and answer in a callable teacher's text
_SOLVE_CHUNK = 1024  # grammar questions solved per generate call during pretraining


@dataclass
class TeacherRollout:
    """One question and its answer text as the teacher wrote them (answer None: it wrote none)."""

    question: str
    answer_text: str | None
    completion_ids: torch.Tensor | None = None  # [T] long, eos included: what a trainable teacher generated
    completion_mask: torch.Tensor | None = None  # [T] long


class QuestionTeacher(ABC):
    """Writes questions with answers (possibly malformed: the loop's format filter decides)."""

    trainable: ClassVar[bool] = False

    @abstractmethod
    def write(self, count: int, seed: int) -> list[TeacherRollout]:
        """``count`` rollouts, reproducible for a given ``seed``."""

    def update(self, rollouts: Sequence[TeacherRollout], advantages: np.ndarray) -> dict[str, float]:
        raise NotImplementedError(f"{type(self).__name__} is not trainable (trainable = False)")

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        return None


class CallableQuestionTeacher(QuestionTeacher):
    """A teacher from any ``prompt -> "question#answer"`` callable; ``seed`` is passed when ``pass_seed``."""

    def __init__(self, write_fn: Callable[..., str], prompt: str, pass_seed: bool = False) -> None:
        self.write_fn = write_fn
        self.prompt = prompt
        self.pass_seed = pass_seed

    def write(self, count: int, seed: int) -> list[TeacherRollout]:
        rollouts = []
        for i in range(count):
            text = self.write_fn(self.prompt, seed=seed * 100_003 + i) if self.pass_seed else self.write_fn(self.prompt)
            question, sep, answer = str(text).strip().partition(QA_SEPARATOR)
            rollouts.append(TeacherRollout(question, answer if sep else None))
        return rollouts


class TinyQuestionTeacher(QuestionTeacher):
    """The testbed teacher: a copy of the base student that writes a question, then solves it."""

    trainable = True

    def __init__(
        self,
        config: TeacherConfig,
        family: OpChainConfig,
        base_model: TinyGPT,
        tokenizer: CharTokenizer,
        answer_tokens: int,
        seed: int,
    ) -> None:
        self.config = config
        self.family = family
        self.seed = seed
        self.model = copy.deepcopy(base_model)
        self.tokenizer = tokenizer
        self.device = next(self.model.parameters()).device
        # a question is at most the student's prompt long, its answer at most the student's completion
        self.max_new_tokens = question_length(family) + answer_tokens
        self.reference: TinyGPT | None = None  # the pretrained teacher, for the KL penalty
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=config.learning_rate)
        self.updates = 0

    def pretrain(self, progress: bool = False) -> dict[str, float]:
        """SFT on grammar questions, each followed by a solution: the base model's own sample of it
        (``pretrain_answers: self``) or the grammar's noisy one (``grammar``; malformed questions keep the sample).

        Training on questions alone overwrites what the base model writes after ``=`` (it starts writing question
        characters there). Appending its own solutions is self-distillation: the teacher learns to write questions
        while its answers stay as good, and as wrong, as the base model's (the paper's teacher). The grammar's
        solutions teach it to solve as well, the way a pretrained LM learns from its corpus. The result is also the
        KL reference of the RLOO updates.
        """
        stats: dict[str, float] = {"loss": float("nan"), "steps": 0}
        if self.config.pretrain_steps > 0:
            questions = pretraining_corpus(self.config.pretrain_examples, self.config.grammar, self.family, self.seed)
            generator = torch.Generator(device=self.device).manual_seed(self.seed * 17 + 3)
            solutions: list[str] = []
            for start in range(0, len(questions), _SOLVE_CHUNK):
                prompts = [TEACHER_PROMPT + rest for _, rest in questions[start : start + _SOLVE_CHUNK]]
                tokens = self.max_new_tokens - question_length(self.family)
                solutions += generate(
                    self.model, self.tokenizer, prompts, tokens, self.config.temperature, generator=generator
                ).texts
            # every question is sampled even where the grammar answers it, so 'self' and 'grammar' draw the same
            # samples and their corpora differ only in the grammar's solutions
            if self.config.pretrain_answers == "grammar":
                written = [TEACHER_PROMPT + rest for _, rest in questions]
                from_grammar = grammar_solutions(written, self.config.grammar, self.family, self.seed)
                solutions = [own if new is None else new for own, new in zip(solutions, from_grammar, strict=True)]
            corpus = [(prompt, rest + solution) for (prompt, rest), solution in zip(questions, solutions, strict=True)]
            trainer = SFTTrainer(self.model, self.tokenizer, self.config.pretrain, seed=self.seed * 13 + 5)
            stats = trainer.train(corpus, steps=self.config.pretrain_steps, progress=progress)
        self.reference = copy.deepcopy(self.model).eval().requires_grad_(False)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=self.config.learning_rate)
        return stats

    def write(self, count: int, seed: int) -> list[TeacherRollout]:
        """One generation per rollout: the question up to its first ``=``, then the teacher's solution."""
        generator = torch.Generator(device=self.device).manual_seed(seed)
        out = generate(
            self.model,
            self.tokenizer,
            [TEACHER_PROMPT] * count,
            self.max_new_tokens,
            self.config.temperature,
            generator=generator,
        )
        return [_rollout(out, i) for i in range(count)]

    def update(self, rollouts: Sequence[TeacherRollout], advantages: np.ndarray) -> dict[str, float]:
        """One on-policy RLOO step (``trainers.policy_loss`` unclipped: gradient -A grad log pi, token mean over
        every generated token, question and answer) plus the k3 KL to the pretrained teacher. The returned ``loss``
        is that surrogate's value."""
        if len(rollouts) != len(advantages):
            raise InvalidArgumentError(f"update: {len(rollouts)} rollouts but {len(advantages)} advantages")
        if self.config.learning_rate == 0 or not rollouts:
            return {"loss": 0.0, "kl": 0.0, "grad_norm": 0.0}
        ids = [r.completion_ids for r in rollouts]
        masks = [r.completion_mask for r in rollouts]
        if any(i is None for i in ids) or any(m is None for m in masks):
            raise InvalidArgumentError("update: every rollout needs its token ids (written by this teacher)")
        prompt_ids, prompt_mask = left_pad([self.tokenizer.encode(TEACHER_PROMPT)] * len(rollouts))
        width = max(int(i.shape[0]) for i in ids if i is not None)
        completion_ids = right_pad([i[None] for i in ids if i is not None], width, PAD_ID)
        completion_mask = right_pad([m[None] for m in masks if m is not None], width, 0)
        tensors = [t.to(self.device) for t in (prompt_ids, prompt_mask, completion_ids, completion_mask)]
        mask = tensors[3].float()
        adv = torch.as_tensor(np.asarray(advantages, dtype=np.float32), device=self.device)
        self.model.train()
        logprobs = completion_logprobs(self.model, *tensors, temperature=self.config.temperature)
        ref = None
        if self.reference is not None and self.config.kl_coef > 0:
            with torch.no_grad():
                ref = completion_logprobs(self.reference, *tensors, temperature=self.config.temperature)
        # on-policy: the ratio to the detached log-probs is 1, so the gradient is -A grad log pi
        step = policy_loss(logprobs, logprobs.detach(), adv, mask, None, ref, kl_coef=self.config.kl_coef)
        self.optimizer.zero_grad(set_to_none=True)
        step.loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        self.updates += 1
        return {"loss": float(step.loss.detach()), "kl": float(step.kl.detach()), "grad_norm": float(grad_norm)}

    def state_dict(self) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "reference": None if self.reference is None else self.reference.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "updates": self.updates,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        if state["reference"] is not None:
            self.reference = copy.deepcopy(self.model).eval().requires_grad_(False)
            self.reference.load_state_dict(state["reference"])
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=self.config.learning_rate)
        self.optimizer.load_state_dict(state["optimizer"])
        self.updates = int(state["updates"])


def _rollout(out: Generation, row: int) -> TeacherRollout:
    """Row ``row`` of a generation split into question (through its first ``=``) and answer."""
    question, sep, answer = (TEACHER_PROMPT + out.texts[row]).partition(QUESTION_END)
    length = int(out.completion_mask[row].sum())
    return TeacherRollout(
        question + sep,
        answer if sep else None,
        out.completion_ids[row, :length].detach().clone(),
        out.completion_mask[row, :length].detach().clone(),
    )
