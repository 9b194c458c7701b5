"""A small GPT-style transformer with a KV cache, built for left-padded batches."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from autocurriculum.core.config import option, require
from autocurriculum.core.errors import InvalidArgumentError

KVCache = list[tuple[torch.Tensor, torch.Tensor]]


@dataclass
class TinyGPTConfig:
    vocab_size: int | None = option(
        None,
        "Number of token ids, including pad and eos. None: derived from the tokenizer by the harness (the testbed "
        "fills it and an experiment config may not set it); set it when building TinyGPT directly.",
    )
    d_model: int = option(128, "Width of the residual stream.")
    n_layers: int = option(4, "Number of transformer blocks.")
    n_heads: int = option(4, "Attention heads per block; must divide d_model.")
    max_seq_len: int | None = option(
        None,
        "Longest prompt + completion the model accepts (and the learned position table covers). None: derived by "
        "the harness from its tasks (the testbed fills it and an experiment config may not set it); set it when "
        "building TinyGPT directly.",
    )
    dropout: float = option(0.0, "Dropout on attention weights and residual branches (0 keeps sampling exact).")
    position_encoding: str = option(
        "rope",
        "'rope' (rotary, relative: a skill learned at one position transfers to others, so longer problems "
        "are partly solvable) or 'learned' (absolute table: every position is learned separately).",
    )
    rope_base: float = option(10_000.0, "Base of the rotary frequencies.")

    def require_derived(self) -> None:
        """Raise a ConfigError naming a derived field the harness has not filled in yet."""
        for name, value in (("vocab_size", self.vocab_size), ("max_seq_len", self.max_seq_len)):
            require(value is not None, name, "is None ('derived by the harness'); set it before building TinyGPT")

    def validate(self) -> None:
        """Check every set field; None in a derived field (vocab_size, max_seq_len) is accepted until built."""
        require(
            self.vocab_size is None or self.vocab_size >= 3,
            "vocab_size",
            f"must be at least 3 (pad, eos, one char), got {self.vocab_size}",
        )
        require(self.d_model > 0, "d_model", f"must be positive, got {self.d_model}")
        require(self.n_layers > 0, "n_layers", f"must be positive, got {self.n_layers}")
        require(
            self.n_heads > 0 and self.d_model % self.n_heads == 0,
            "n_heads",
            f"must be positive and divide d_model={self.d_model}, got {self.n_heads}",
        )
        require(
            self.max_seq_len is None or self.max_seq_len > 0, "max_seq_len", f"must be positive, got {self.max_seq_len}"
        )
        require(0.0 <= self.dropout < 1.0, "dropout", f"must be in [0, 1), got {self.dropout}")
        require(
            self.position_encoding in ("rope", "learned"),
            "position_encoding",
            f"must be 'rope' or 'learned', got {self.position_encoding!r}",
        )
        require(
            self.position_encoding != "rope" or (self.d_model // max(self.n_heads, 1)) % 2 == 0,
            "n_heads",
            "rotary encoding needs an even head dimension (d_model / n_heads)",
        )


def position_ids_from_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """Positions that count only real tokens, so left padding does not shift a prompt.

    Pad slots before the first real token would get -1; clamp them to 0 (their outputs are never used).
    """
    return (attention_mask.long().cumsum(-1) - 1).clamp_(min=0)


def rotary_tables(position_ids: torch.Tensor, head_dim: int, base: float) -> tuple[torch.Tensor, torch.Tensor]:
    """cos/sin of shape [B, 1, T, head_dim / 2] for rotary position encoding."""
    freqs = base ** (-torch.arange(0, head_dim, 2, device=position_ids.device, dtype=torch.float32) / head_dim)
    angles = position_ids.float()[:, None, :, None] * freqs
    return angles.cos(), angles.sin()


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate the two halves of each head's features by position-dependent angles."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


class _Attention(nn.Module):
    def __init__(self, config: TinyGPTConfig) -> None:
        super().__init__()
        self.n_heads = config.n_heads
        self.head_dim = config.d_model // config.n_heads
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model)
        self.proj = nn.Linear(config.d_model, config.d_model)
        self.dropout = config.dropout

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor,
        past: tuple[torch.Tensor, torch.Tensor] | None,
        rotary: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        b, t, d = x.shape
        q, k, v = self.qkv(x).split(d, dim=-1)
        q, k, v = (z.view(b, t, self.n_heads, self.head_dim).transpose(1, 2) for z in (q, k, v))
        if rotary is not None:  # keys are cached already rotated, so cached positions need no recomputation
            q, k = apply_rotary(q, *rotary), apply_rotary(k, *rotary)
        if past is not None:
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0)
        y = y.transpose(1, 2).reshape(b, t, d)
        return self.proj(y), (k, v)


class _Block(nn.Module):
    def __init__(self, config: TinyGPTConfig) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(config.d_model)
        self.attn = _Attention(config)
        self.ln2 = nn.LayerNorm(config.d_model)
        self.mlp = nn.Sequential(
            nn.Linear(config.d_model, 4 * config.d_model),
            nn.GELU(),
            nn.Linear(4 * config.d_model, config.d_model),
        )
        self.drop = nn.Dropout(config.dropout)

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor,
        past: tuple[torch.Tensor, torch.Tensor] | None,
        rotary: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        a, kv = self.attn(self.ln1(x), mask, past, rotary)
        x = x + self.drop(a)
        x = x + self.drop(self.mlp(self.ln2(x)))
        return x, kv


class TinyGPT(nn.Module):
    """Pre-LayerNorm GPT (rotary or learned absolute positions) with an output head tied to the token embedding.

    ``seed`` makes initialisation reproducible without touching the caller's global RNG state;
    ``seed=None`` draws from the global torch RNG instead.
    """

    def __init__(self, config: TinyGPTConfig, seed: int | None = 0) -> None:
        super().__init__()
        config.validate()
        config.require_derived()
        self.config = config
        if seed is None:
            self._build(config)
        else:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                self._build(config)

    def _build(self, config: TinyGPTConfig) -> None:
        self.tok_emb = nn.Embedding(config.vocab_size, config.d_model)
        if config.position_encoding == "learned":
            self.pos_emb = nn.Embedding(config.max_seq_len, config.d_model)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(_Block(config) for _ in range(config.n_layers))
        self.ln_f = nn.LayerNorm(config.d_model)
        # GPT-2 style init; residual output projections are scaled down so depth does not blow up the stream.
        for name, p in self.named_parameters():
            if p.dim() >= 2:
                std = 0.02 / math.sqrt(2 * config.n_layers) if name.endswith(("proj.weight", "mlp.2.weight")) else 0.02
                nn.init.normal_(p, mean=0.0, std=std)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(
        self,
        input_ids: torch.Tensor,
        position_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        past_key_values: KVCache | None = None,
        use_cache: bool = False,
    ) -> tuple[torch.Tensor, KVCache | None]:
        """Logits ``[B, T, vocab]`` and, with ``use_cache``, the extended per-layer (key, value) cache.

        ``attention_mask`` is ``[B, past + T]``: 1 for real tokens, 0 for padding, covering the cached
        positions too. ``position_ids`` is ``[B, T]`` (see :func:`position_ids_from_mask`).
        """
        if input_ids.dim() != 2:
            raise InvalidArgumentError(f"TinyGPT: input_ids must be [batch, seq], got shape {tuple(input_ids.shape)}")
        b, t = input_ids.shape
        past_len = 0 if not past_key_values else past_key_values[0][0].shape[2]
        total = past_len + t
        if total > self.config.max_seq_len:
            raise InvalidArgumentError(
                f"TinyGPT: sequence length {total} (cached {past_len} + new {t}) exceeds "
                f"max_seq_len={self.config.max_seq_len}"
            )
        if position_ids.shape != (b, t):
            raise InvalidArgumentError(
                f"TinyGPT: position_ids shape {tuple(position_ids.shape)} != input_ids shape {(b, t)}"
            )
        if attention_mask.shape != (b, total):
            raise InvalidArgumentError(
                f"TinyGPT: attention_mask shape {tuple(attention_mask.shape)} must be "
                f"(batch, past + new) = {(b, total)}"
            )

        device = input_ids.device
        q_idx = torch.arange(past_len, total, device=device)[:, None]
        k_idx = torch.arange(total, device=device)[None, :]
        # Padded keys are hidden and attention is causal. A query may always see itself, so pad
        # queries (which would otherwise see nothing) stay finite instead of producing NaN.
        mask = (attention_mask.bool()[:, None, None, :] & (k_idx <= q_idx)) | (k_idx == q_idx)

        x = self.tok_emb(input_ids)
        rotary = None
        if self.config.position_encoding == "learned":
            x = x + self.pos_emb(position_ids)
        else:
            head_dim = self.config.d_model // self.config.n_heads
            rotary = rotary_tables(position_ids, head_dim, self.config.rope_base)
        x = self.drop(x)
        new_cache: KVCache = []
        for i, block in enumerate(self.blocks):
            x, kv = block(x, mask, past_key_values[i] if past_key_values else None, rotary)
            if use_cache:
                new_cache.append(kv)
        logits = F.linear(self.ln_f(x), self.tok_emb.weight)
        return logits, (new_cache if use_cache else None)
