"""Batched KV-cache sampling from TinyGPT with left-padded prompts."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from autocurriculum.core.errors import InvalidArgumentError
from autocurriculum.trainers.sequences import left_pad
from autocurriculum.trainers.tiny_gpt import TinyGPT, position_ids_from_mask
from autocurriculum.trainers.tokenizer import EOS_ID, PAD_ID, CharTokenizer


@dataclass
class Generation:
    """Sampled completions for N prompts, with the tensors a trainer needs to score them again."""

    prompt_ids: torch.Tensor  # [N, P] long, left padded
    prompt_mask: torch.Tensor  # [N, P] long, 1 for real prompt tokens
    completion_ids: torch.Tensor  # [N, T] long, pad after eos
    completion_mask: torch.Tensor  # [N, T] long, 1 up to and including eos (all T if no eos)
    logprobs: torch.Tensor  # [N, T] float, log-prob of each sampled token at the sampling temperature; 0 where masked
    texts: list[str]  # decoded completions, eos stripped
    completion_lengths: torch.Tensor  # [N] long, tokens per completion including eos

    @property
    def num_completion_tokens(self) -> int:
        return int(self.completion_lengths.sum())


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[None]:
    """Switch off dropout for the duration, then restore the caller's mode."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def encode_prompts(tokenizer: CharTokenizer, prompts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
    if not prompts:
        raise InvalidArgumentError("generate: no prompts given")
    rows = []
    for i, prompt in enumerate(prompts):
        if not prompt:
            raise InvalidArgumentError(f"encode_prompts: prompt {i} is empty")
        rows.append(tokenizer.encode(prompt))
    return left_pad(rows)


@torch.no_grad()
def generate(
    model: TinyGPT,
    tokenizer: CharTokenizer,
    prompts: list[str],
    max_new_tokens: int,
    temperature: float = 1.0,
    greedy: bool = False,
    generator: torch.Generator | None = None,
) -> Generation:
    """Sample up to ``max_new_tokens`` per prompt; stops as soon as every row has emitted eos."""
    if max_new_tokens < 1:
        raise InvalidArgumentError(f"generate: max_new_tokens must be at least 1, got {max_new_tokens}")
    if not greedy and not temperature > 0:
        raise InvalidArgumentError(f"generate: temperature must be positive when sampling, got {temperature}")
    for i, prompt in enumerate(prompts):
        if not prompt:
            raise InvalidArgumentError(
                f"generate: prompt {i} is empty; the model needs at least one token to condition on"
            )
    # GRPO repeats each prompt group_size times: run the prompt forward once per distinct prompt
    # and share its KV cache across the copies.
    first_index: dict[str, int] = {}
    for prompt in prompts:
        first_index.setdefault(prompt, len(first_index))
    unique = list(first_index)
    unique_ids, unique_mask = encode_prompts(tokenizer, unique)
    n, p = len(prompts), unique_ids.shape[1]
    # The last sampled token is never fed back, so prompt + max_new_tokens - 1 positions are needed.
    if p + max_new_tokens - 1 > model.config.max_seq_len:
        raise InvalidArgumentError(
            f"generate: longest prompt ({p} tokens) + max_new_tokens ({max_new_tokens}) - 1 exceeds "
            f"the model's max_seq_len={model.config.max_seq_len}"
        )
    device = next(model.parameters()).device
    if generator is not None and not greedy and generator.device.type != device.type:
        raise InvalidArgumentError(
            f"generate: the torch.Generator is on {generator.device} but the model is on {device}; "
            f"create it with torch.Generator(device=...) on the model's device"
        )
    unique_ids, unique_mask = unique_ids.to(device), unique_mask.to(device)
    inverse = torch.tensor([first_index[prompt] for prompt in prompts], dtype=torch.long, device=device)
    prompt_ids, prompt_mask = unique_ids[inverse], unique_mask[inverse]

    with eval_mode(model):
        logits, cache = model(unique_ids, position_ids_from_mask(unique_mask), unique_mask, use_cache=True)
        next_logits = logits[:, -1]
        if len(unique) < n:
            next_logits = next_logits[inverse]
            cache = [(k[inverse], v[inverse]) for k, v in cache]
        # Left padding puts every prompt's last token in the last column, so its position is its length - 1.
        position = prompt_mask.sum(dim=1, keepdim=True)
        # Every fed-back token is real (finished rows are ignored), so the mask only grows by ones.
        full_mask = torch.cat([prompt_mask, prompt_mask.new_ones((n, max_new_tokens - 1))], dim=1)
        finished = torch.zeros(n, dtype=torch.bool, device=device)
        tokens: list[torch.Tensor] = []
        logprobs: list[torch.Tensor] = []
        for step in range(max_new_tokens):
            scaled = next_logits.float() if greedy or temperature == 1.0 else next_logits.float() / temperature
            log_dist = F.log_softmax(scaled, dim=-1)
            if greedy:
                token = log_dist.argmax(dim=-1)
            else:
                token = torch.multinomial(log_dist.exp(), 1, generator=generator).squeeze(1)
            token_logprob = log_dist.gather(1, token[:, None]).squeeze(1)
            token = torch.where(finished, torch.full_like(token, PAD_ID), token)
            tokens.append(token)
            logprobs.append(torch.where(finished, torch.zeros_like(token_logprob), token_logprob))
            finished = finished | (token == EOS_ID)
            if step == max_new_tokens - 1 or bool(finished.all()):
                break
            mask = full_mask[:, : p + step + 1]
            logits, cache = model(token[:, None], position, mask, past_key_values=cache, use_cache=True)
            next_logits = logits[:, -1]
            position = position + 1

    completion_ids = torch.stack(tokens, dim=1)
    is_eos = completion_ids == EOS_ID
    # Tokens strictly after the first eos are padding: count earlier eos tokens with an exclusive cumsum.
    eos_before = is_eos.long().cumsum(dim=1) - is_eos.long()
    completion_mask = (eos_before == 0).long()
    completion_ids = completion_ids.masked_fill(completion_mask == 0, PAD_ID)
    token_logprobs = torch.stack(logprobs, dim=1) * completion_mask
    texts = [tokenizer.decode(row.tolist()) for row in completion_ids.cpu()]
    return Generation(
        prompt_ids=prompt_ids,
        prompt_mask=prompt_mask,
        completion_ids=completion_ids,
        completion_mask=completion_mask,
        logprobs=token_logprobs,
        texts=texts,
        completion_lengths=completion_mask.sum(dim=1),
    )


@torch.no_grad()
def greedy_complete(
    model: TinyGPT, tokenizer: CharTokenizer, prompts: list[str], max_new_tokens: int, batch_size: int = 512
) -> list[str]:
    """Greedy completions for evaluation, in chunks of ``batch_size`` prompts."""
    if batch_size < 1:
        raise InvalidArgumentError(f"greedy_complete: batch_size must be at least 1, got {batch_size}")
    out: list[str] = []
    with eval_mode(model):
        for start in range(0, len(prompts), batch_size):
            chunk = list(prompts[start : start + batch_size])
            out.extend(generate(model, tokenizer, chunk, max_new_tokens, greedy=True).texts)
    return out
