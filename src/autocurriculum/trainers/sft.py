"""Supervised warm start: teacher forcing on prompt -> demonstration pairs."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from autocurriculum.core.config import option, require
from autocurriculum.core.errors import InvalidArgumentError
from autocurriculum.trainers.sequences import completion_logprobs, left_pad, right_pad
from autocurriculum.trainers.tiny_gpt import TinyGPT
from autocurriculum.trainers.tokenizer import EOS_ID, PAD_ID, CharTokenizer


@dataclass
class SFTConfig:
    learning_rate: float = option(1e-3, "AdamW learning rate for the warm start.")
    batch_size: int = option(128, "Examples per step, drawn with replacement.")
    weight_decay: float = option(0.0, "AdamW decoupled weight decay.")
    grad_clip: float = option(1.0, "Clip the global gradient norm to this value (0 disables clipping).")

    def validate(self) -> None:
        require(self.learning_rate > 0, "learning_rate", f"must be positive, got {self.learning_rate}")
        require(self.batch_size >= 1, "batch_size", f"must be at least 1, got {self.batch_size}")
        require(self.weight_decay >= 0, "weight_decay", f"must be non-negative, got {self.weight_decay}")
        require(self.grad_clip >= 0, "grad_clip", f"must be non-negative, got {self.grad_clip}")


class SFTTrainer:
    """Cross-entropy on completion tokens plus eos; prompt tokens carry no loss."""

    def __init__(
        self, model: TinyGPT, tokenizer: CharTokenizer, config: SFTConfig | None = None, seed: int = 0
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.config = config or SFTConfig()
        self.config.validate()
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.optimizer = torch.optim.AdamW(
            model.parameters(), lr=self.config.learning_rate, weight_decay=self.config.weight_decay
        )
        self.step_count = 0

    def collate(self, batch: Sequence[tuple[str, str]]) -> tuple[torch.Tensor, ...]:
        """Left-padded prompts and right-padded completions (each ending in eos), with masks."""
        if not batch:
            raise InvalidArgumentError("SFTTrainer: empty batch")
        prompts, completions = [], []
        for i, (prompt, completion) in enumerate(batch):
            if not prompt:
                raise InvalidArgumentError(f"SFTTrainer: example {i} has an empty prompt")
            prompts.append(self.tokenizer.encode(prompt))
            completions.append(torch.tensor([*self.tokenizer.encode(completion), EOS_ID], dtype=torch.long))
        prompt_ids, prompt_mask = left_pad(prompts)
        width = max(len(c) for c in completions)
        completion_ids = right_pad([c[None] for c in completions], width, PAD_ID)
        completion_mask = right_pad([torch.ones(1, len(c), dtype=torch.long) for c in completions], width, 0)
        device = next(self.model.parameters()).device
        return tuple(t.to(device) for t in (prompt_ids, prompt_mask, completion_ids, completion_mask))

    def loss(self, batch: Sequence[tuple[str, str]]) -> torch.Tensor:
        """Mean negative log-likelihood per completion token (eos included) over the batch."""
        prompt_ids, prompt_mask, completion_ids, completion_mask = self.collate(batch)
        logprobs = completion_logprobs(self.model, prompt_ids, prompt_mask, completion_ids, completion_mask)
        return -logprobs.sum() / completion_mask.sum()

    def train(self, examples: Sequence[tuple[str, str]], steps: int, progress: bool = False) -> dict[str, float]:
        """Run ``steps`` AdamW steps on batches drawn with replacement from ``examples``."""
        if not examples:
            raise InvalidArgumentError("SFTTrainer.train: no examples given")
        if steps < 0:
            raise InvalidArgumentError(f"SFTTrainer.train: steps must be non-negative, got {steps}")
        self.model.train()
        max_norm = self.config.grad_clip if self.config.grad_clip > 0 else math.inf
        loss_value = float("nan")
        bar = tqdm(range(steps), desc="sft", disable=not progress, leave=False)
        for _ in bar:
            idx = self.rng.integers(0, len(examples), size=self.config.batch_size)
            batch = [examples[i] for i in idx]
            # Dropout draws from the global RNG; seed it per step so runs repeat without touching the caller's state.
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.seed * 1_000_003 + self.step_count)
                loss = self.loss(batch)
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), max_norm)
            self.optimizer.step()
            self.step_count += 1
            loss_value = float(loss.detach())
            if progress:
                bar.set_postfix(loss=f"{loss_value:.4f}")
        return {"loss": loss_value, "steps": steps}
