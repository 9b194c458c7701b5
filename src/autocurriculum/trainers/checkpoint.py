"""Save and reload a model with its tokenizer, so one SFT warm start can seed many GRPO runs."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import torch

from autocurriculum.core.config import build_config
from autocurriculum.core.errors import InvalidArgumentError, MissingFileError, StateFormatError
from autocurriculum.trainers.tiny_gpt import TinyGPT, TinyGPTConfig
from autocurriculum.trainers.tokenizer import CharTokenizer

_FORMAT = "autocurriculum.tiny_gpt/1"


class LoadedModel(NamedTuple):
    model: TinyGPT
    tokenizer: CharTokenizer
    config: TinyGPTConfig
    metadata: dict[str, Any]


def save_model(
    path: str | os.PathLike[str],
    model: TinyGPT,
    tokenizer: CharTokenizer,
    config: TinyGPTConfig | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Write weights, tokenizer alphabet, model config and optional plain-data metadata to ``path``.

    Written to a temporary file first and renamed, so a reader never sees a half-written checkpoint.
    """
    config = config or model.config
    if config.vocab_size != tokenizer.vocab_size:
        raise InvalidArgumentError(
            f"save_model: config.vocab_size={config.vocab_size} does not match "
            f"tokenizer.vocab_size={tokenizer.vocab_size}"
        )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": _FORMAT,
        "model_config": dataclasses.asdict(config),
        "tokenizer": tokenizer.state_dict(),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "metadata": dict(metadata or {}),
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)
    return path


def load_model(path: str | os.PathLike[str], map_location: str | torch.device = "cpu") -> LoadedModel:
    """Rebuild the model and tokenizer saved by :func:`save_model`."""
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"load_model: {path}: no such checkpoint file")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # truncated or corrupt: torch raises pickle, zip and runtime errors alike
        raise StateFormatError(
            f"load_model: {path} cannot be read ({type(exc).__name__}: {exc}); delete it to rebuild it"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
        raise StateFormatError(f"load_model: {path} is not a {_FORMAT} checkpoint")
    config = build_config(TinyGPTConfig, payload["model_config"], source=f"{path}:model_config")
    tokenizer = CharTokenizer.from_state_dict(payload["tokenizer"])
    model = TinyGPT(config, seed=0)
    try:
        model.load_state_dict(payload["state_dict"])
    except (RuntimeError, KeyError) as exc:  # shapes or names that do not match the saved config
        raise StateFormatError(f"load_model: {path}: weights do not match its model config ({exc})") from None
    return LoadedModel(model, tokenizer, config, dict(payload["metadata"]))
