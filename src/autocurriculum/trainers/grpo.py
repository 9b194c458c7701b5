"""GRPO: group-relative policy optimisation on verifiable rewards."""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from autocurriculum.core.config import option, require
from autocurriculum.core.errors import InvalidArgumentError, InvalidOutcomeError
from autocurriculum.trainers.sampling import generate
from autocurriculum.trainers.sequences import completion_logprobs, left_pad, right_pad
from autocurriculum.trainers.tiny_gpt import TinyGPT
from autocurriculum.trainers.tokenizer import PAD_ID, CharTokenizer


@dataclass
class GRPOConfig:
    learning_rate: float = option(5e-5, "AdamW learning rate. Above about 1e-4 GRPO on the tiny model collapses.")
    group_size: int = option(8, "Completions sampled per prompt; advantages are normalised within each group.")
    max_new_tokens: int | None = option(
        None,
        "Longest completion, eos included. None: derived by the harness from its tasks (the testbed fills it and "
        "an experiment config may not set it); set it when building GRPOTrainer directly.",
    )
    temperature: float = option(1.0, "Sampling temperature; log-probs in the loss use the same temperature.")
    clip_epsilon: float = option(
        0.2, "PPO clip range for the importance ratio (active only when updates_per_batch > 1)."
    )
    kl_coef: float = option(
        0.0, "Weight of the k3 KL penalty to a frozen copy of the initial policy (0 keeps no copy)."
    )
    updates_per_batch: int = option(1, "Optimizer steps on each rollout batch (PPO-style reuse).")
    grad_clip: float = option(1.0, "Clip the global gradient norm to this value (0 disables clipping).")
    advantage_eps: float = option(1e-4, "Added to the group reward std before dividing.")
    weight_decay: float = option(0.0, "AdamW decoupled weight decay.")

    def validate(self) -> None:
        require(0 < self.learning_rate < 1, "learning_rate", f"must lie in (0, 1), got {self.learning_rate}")
        require(self.group_size >= 2, "group_size", f"must be at least 2 for a group baseline, got {self.group_size}")
        require(
            self.max_new_tokens is None or self.max_new_tokens >= 1,
            "max_new_tokens",
            f"must be at least 1, got {self.max_new_tokens}",
        )
        require(self.temperature > 0, "temperature", f"must be positive, got {self.temperature}")
        require(0 < self.clip_epsilon < 1, "clip_epsilon", f"must be in (0, 1), got {self.clip_epsilon}")
        require(self.kl_coef >= 0, "kl_coef", f"must be non-negative, got {self.kl_coef}")
        require(self.updates_per_batch >= 1, "updates_per_batch", f"must be at least 1, got {self.updates_per_batch}")
        require(self.grad_clip >= 0, "grad_clip", f"must be non-negative, got {self.grad_clip}")
        require(self.advantage_eps > 0, "advantage_eps", f"must be positive, got {self.advantage_eps}")
        require(self.weight_decay >= 0, "weight_decay", f"must be non-negative, got {self.weight_decay}")


@dataclass
class RolloutGroup:
    """One prompt's sampled completions and the tensors needed to train on them later."""

    prompt: str
    completions: list[str]
    prompt_ids: torch.Tensor  # [P] long, unpadded
    completion_ids: torch.Tensor  # [G, T] long, pad after eos
    completion_mask: torch.Tensor  # [G, T] long, 1 up to and including eos
    old_logprobs: torch.Tensor  # [G, T] float, sampling-time log-probs; 0 where masked
    completion_tokens: int  # generated tokens over the whole group, eos included
    prompt_tokens: int  # prompt tokens processed for the group: group size x prompt length

    @property
    def group_size(self) -> int:
        return len(self.completions)

    @property
    def completion_lengths(self) -> list[int]:
        return self.completion_mask.sum(dim=1).tolist()

    def concatenate(self, other: RolloutGroup) -> RolloutGroup:
        """This group followed by ``other``'s completions of the same prompt (a screen and its continuation)."""
        if self.prompt != other.prompt:
            raise InvalidArgumentError(
                f"cannot join rollouts of different prompts {self.prompt!r} and {other.prompt!r}"
            )
        width = max(self.completion_ids.shape[1], other.completion_ids.shape[1])
        return RolloutGroup(
            prompt=self.prompt,
            completions=self.completions + other.completions,
            prompt_ids=self.prompt_ids,
            completion_ids=right_pad([self.completion_ids, other.completion_ids], width, PAD_ID),
            completion_mask=right_pad([self.completion_mask, other.completion_mask], width, 0),
            old_logprobs=right_pad([self.old_logprobs, other.old_logprobs], width, 0.0),
            completion_tokens=self.completion_tokens + other.completion_tokens,
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
        )


def group_advantages(rewards: np.ndarray, eps: float = 1e-4) -> np.ndarray:
    """(r - mean) / (std + eps) within one group (population std). Equal rewards give all zeros."""
    r = np.asarray(rewards, dtype=np.float64)
    return (r - r.mean()) / (r.std() + eps)


@dataclass(frozen=True)
class PolicyLoss:
    """One policy-gradient loss evaluation over a batch of completions."""

    loss: torch.Tensor  # scalar to backpropagate: token mean over the masked completion tokens
    kl: torch.Tensor  # token-mean k3 estimate of KL(policy || reference); 0 without a reference
    clip_fraction: float  # share of tokens whose clipped term was the smaller one


def policy_loss(
    logprobs: torch.Tensor,
    old_logprobs: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    clip_epsilon: float | None,
    ref_logprobs: torch.Tensor | None = None,
    kl_coef: float = 0.0,
) -> PolicyLoss:
    """Token-mean ``-min(ratio A, clip(ratio) A) + kl_coef k3`` over the completion tokens in ``mask``.

    ``logprobs``, ``old_logprobs``, ``ref_logprobs`` and ``mask`` are ``[N, T]``, ``advantages`` ``[N]`` (one per
    completion). ``clip_epsilon=None`` leaves the ratio unclipped: with ``old_logprobs = logprobs.detach()`` the
    ratio is 1 and the gradient is REINFORCE's ``-A grad log pi`` (an on-policy step, as RLOO takes).
    """
    n_tokens = mask.sum()
    ratio = torch.exp(logprobs - old_logprobs)
    unclipped = ratio * advantages[:, None]
    clip_fraction = 0.0
    if clip_epsilon is None:
        per_token = -unclipped
    else:
        clipped = ratio.clamp(1 - clip_epsilon, 1 + clip_epsilon) * advantages[:, None]
        per_token = -torch.minimum(unclipped, clipped)
        clip_fraction = float(((clipped < unclipped).float() * mask).sum() / n_tokens)
    kl = torch.zeros((), device=logprobs.device)
    if ref_logprobs is not None:
        delta = ref_logprobs - logprobs
        k3 = torch.exp(delta) - delta - 1  # unbiased, always non-negative KL estimate
        per_token = per_token + kl_coef * k3
        kl = (k3 * mask).sum() / n_tokens
    loss = (per_token * mask).sum() / n_tokens
    return PolicyLoss(loss, kl, clip_fraction)


class GRPOTrainer:
    """Samples groups with a seeded generator and applies clipped, token-mean GRPO updates.

    Groups may be ragged (a different rollout count per prompt, as allocation strategies ask): advantages are
    normalised within each group whatever its size.
    """

    def __init__(
        self, model: TinyGPT, tokenizer: CharTokenizer, config: GRPOConfig | None = None, seed: int = 0
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.config = config or GRPOConfig()
        self.config.validate()
        require(
            self.config.max_new_tokens is not None,
            "max_new_tokens",
            "is None ('derived by the harness'); set it before building GRPOTrainer",
        )
        self.max_new_tokens: int = self.config.max_new_tokens
        self.seed = seed
        # sampling draws on the model's device, so the generator must live there too
        self.generator = torch.Generator(device=next(model.parameters()).device).manual_seed(seed)
        self.optimizer = torch.optim.AdamW(
            model.parameters(), lr=self.config.learning_rate, weight_decay=self.config.weight_decay
        )
        self.ref_model: TinyGPT | None = None
        if self.config.kl_coef > 0:
            self.ref_model = copy.deepcopy(model).eval()
            self.ref_model.requires_grad_(False)
        self.step_count = 0

    def advantages(self, rewards: np.ndarray) -> np.ndarray:
        return group_advantages(rewards, self.config.advantage_eps)

    def rollout(self, prompts: list[str], group_sizes: Sequence[int] | None = None) -> list[RolloutGroup]:
        """Sample ``group_sizes[i]`` completions of ``prompts[i]`` (``group_size`` each by default) in one call."""
        sizes = [self.config.group_size] * len(prompts) if group_sizes is None else [int(n) for n in group_sizes]
        if len(sizes) != len(prompts) or any(n < 1 for n in sizes):
            raise InvalidArgumentError(
                f"rollout: need one group size >= 1 per prompt, got {sizes} for {len(prompts)} prompts"
            )
        expanded = [p for p, n in zip(prompts, sizes, strict=True) for _ in range(n)]
        gen = generate(
            self.model,
            self.tokenizer,
            expanded,
            self.max_new_tokens,
            temperature=self.config.temperature,
            generator=self.generator,
        )
        groups = []
        starts = np.concatenate([[0], np.cumsum(sizes)])
        for i, prompt in enumerate(prompts):
            first, n = int(starts[i]), sizes[i]
            rows = slice(first, first + n)
            mask = gen.completion_mask[rows]
            width = int(mask.sum(dim=1).max())  # trim columns no sample in this group used
            prompt_ids = gen.prompt_ids[first][gen.prompt_mask[first].bool()].clone()
            groups.append(
                RolloutGroup(
                    prompt=prompt,
                    completions=gen.texts[rows],
                    prompt_ids=prompt_ids,
                    completion_ids=gen.completion_ids[rows, :width].clone(),
                    completion_mask=mask[:, :width].clone(),
                    old_logprobs=gen.logprobs[rows, :width].clone(),
                    completion_tokens=int(mask.sum()),
                    prompt_tokens=n * len(prompt_ids),
                )
            )
        return groups

    def _check_rewards(self, groups: Sequence[RolloutGroup], rewards: Sequence[np.ndarray]) -> list[np.ndarray]:
        if not groups:
            raise InvalidArgumentError("GRPOTrainer.train_step: no groups given")
        if len(rewards) != len(groups):
            raise InvalidOutcomeError(
                f"GRPOTrainer.train_step: got {len(rewards)} reward arrays for {len(groups)} groups"
            )
        checked = []
        for i, (group, r) in enumerate(zip(groups, rewards, strict=True)):
            arr = np.asarray(r, dtype=np.float64)
            if arr.shape != (group.group_size,):
                raise InvalidOutcomeError(
                    f"GRPOTrainer.train_step: rewards for group {i} (prompt {group.prompt!r}) have shape "
                    f"{arr.shape}, expected ({group.group_size},)"
                )
            if not np.all(np.isfinite(arr)):
                raise InvalidOutcomeError(
                    f"GRPOTrainer.train_step: rewards for group {i} (prompt {group.prompt!r}) contain NaN or inf: {arr}"
                )
            checked.append(arr)
        return checked

    @staticmethod
    def collate(groups: Sequence[RolloutGroup]) -> tuple[torch.Tensor, ...]:
        """Re-pad groups (possibly from different rollout calls) into one batch."""
        prompt_rows = [g.prompt_ids for g in groups for _ in range(g.group_size)]
        prompt_ids, prompt_mask = left_pad(prompt_rows)
        width = max(g.completion_ids.shape[1] for g in groups)
        completion_ids = right_pad([g.completion_ids for g in groups], width, PAD_ID)
        completion_mask = right_pad([g.completion_mask for g in groups], width, 0)
        old_logprobs = right_pad([g.old_logprobs for g in groups], width, 0.0)
        return prompt_ids, prompt_mask, completion_ids, completion_mask, old_logprobs

    def train_step(self, groups: Sequence[RolloutGroup], rewards: Sequence[np.ndarray]) -> dict[str, float]:
        """``updates_per_batch`` AdamW steps on the clipped token-mean GRPO loss; returns averaged metrics."""
        cfg = self.config
        checked = self._check_rewards(groups, rewards)
        device = next(self.model.parameters()).device
        adv = torch.from_numpy(np.concatenate([self.advantages(r) for r in checked])).float().to(device)
        prompt_ids, prompt_mask, completion_ids, completion_mask, old_logprobs = (
            t.to(device) for t in self.collate(groups)
        )
        mask = completion_mask.float()
        # Every completion token counts, zero-advantage groups included: they cost compute but give no signal.
        n_tokens = mask.sum()
        args = (prompt_ids, prompt_mask, completion_ids, completion_mask)

        ref_logprobs = None
        if self.ref_model is not None:
            with torch.no_grad():
                ref_logprobs = completion_logprobs(self.ref_model, *args, temperature=cfg.temperature)

        max_norm = cfg.grad_clip if cfg.grad_clip > 0 else math.inf
        totals = {"loss": 0.0, "grad_norm": 0.0, "kl": 0.0, "clip_fraction": 0.0}
        self.model.train()
        for update in range(cfg.updates_per_batch):
            with torch.random.fork_rng(devices=[]):  # dropout reproducibility without touching global state
                torch.manual_seed(self.seed * 1_000_003 + self.step_count * 101 + update)
                logprobs = completion_logprobs(self.model, *args, temperature=cfg.temperature)
                step = policy_loss(
                    logprobs, old_logprobs, adv, mask, cfg.clip_epsilon, ref_logprobs, kl_coef=cfg.kl_coef
                )
                self.optimizer.zero_grad(set_to_none=True)
                step.loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), max_norm)
            self.optimizer.step()
            totals["loss"] += float(step.loss.detach())
            totals["grad_norm"] += float(grad_norm)
            totals["kl"] += float(step.kl.detach())
            totals["clip_fraction"] += step.clip_fraction
        self.step_count += 1

        metrics = {k: v / cfg.updates_per_batch for k, v in totals.items()}
        all_rewards = np.concatenate(checked)
        metrics["mean_reward"] = float(all_rewards.mean())
        metrics["tokens"] = float(n_tokens)
        metrics["zero_std_fraction"] = float(np.mean([r.std() == 0 for r in checked]))
        # a group of one has no baseline, so its advantage is zero: counted, never silently dropped
        metrics["singleton_groups"] = float(sum(r.size == 1 for r in checked))
        return metrics
