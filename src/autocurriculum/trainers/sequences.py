"""Padding and per-token log-probabilities shared by sampling, SFT and GRPO."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from autocurriculum.core.errors import InvalidArgumentError
from autocurriculum.trainers.tiny_gpt import TinyGPT, position_ids_from_mask
from autocurriculum.trainers.tokenizer import PAD_ID


def left_pad(rows: Sequence[Sequence[int] | torch.Tensor], pad_id: int = PAD_ID) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack rows right-aligned (``[N, max_len]`` ids and 0/1 mask), so every prompt ends at the last column."""
    width = max((len(r) for r in rows), default=0)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        n = len(row)
        if n:
            ids[i, width - n :] = torch.as_tensor(row, dtype=torch.long)
            mask[i, width - n :] = 1
    return ids, mask


def right_pad(rows: Sequence[torch.Tensor], width: int, value: float | int = 0) -> torch.Tensor:
    """Concatenate ``[n_i, w_i]`` blocks into ``[sum n_i, width]``, filling the right with ``value``."""
    total = sum(r.shape[0] for r in rows)
    dtype = rows[0].dtype if rows else torch.long
    out = torch.full((total, width), value, dtype=dtype)
    start = 0
    for r in rows:
        out[start : start + r.shape[0], : r.shape[1]] = r
        start += r.shape[0]
    return out


def completion_logprobs(
    model: TinyGPT,
    prompt_ids: torch.Tensor,
    prompt_mask: torch.Tensor,
    completion_ids: torch.Tensor,
    completion_mask: torch.Tensor,
    temperature: float = 1.0,
) -> torch.Tensor:
    """Log-probability ``[N, T]`` of each completion token given the left-padded prompt (0 where masked).

    One teacher-forced forward over prompt + completion. The last completion token is never fed
    in, since nothing is predicted from it, which also keeps the length within what sampling used.
    """
    p = prompt_ids.shape[1]
    if p == 0:
        raise InvalidArgumentError("completion_logprobs: prompts must have at least one token")
    ids = torch.cat([prompt_ids, completion_ids], dim=1)[:, :-1]
    mask = torch.cat([prompt_mask, completion_mask], dim=1)[:, :-1]
    logits, _ = model(ids, position_ids_from_mask(mask), mask)
    logits = logits[:, p - 1 :].float()
    if temperature != 1.0:
        logits = logits / temperature
    logprobs = F.log_softmax(logits, dim=-1).gather(-1, completion_ids.unsqueeze(-1)).squeeze(-1)
    return logprobs * completion_mask.to(logprobs.dtype)
