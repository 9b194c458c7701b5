"""Adapters that let any registered strategy drive an external trainer.

Import the adapter you need by its full path; this package itself imports
nothing heavy (no trl, verl, ray or torch), so it is safe to import anywhere:

    from autocurriculum.integrations.trl import CurriculumGRPOTrainer      # needs `trl`
    from autocurriculum.integrations.verl import CurriculumSampler          # needs `verl` (<= 0.8)

The JSON codec below is shared by the adapters: curriculum state holds NumPy
arrays and a 128-bit PCG64 state, which ``torch.load(weights_only=True)`` and
plain JSON cannot carry, so checkpoints store it as a JSON string instead.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

__all__ = ["decode_state", "encode_state", "state_from_json", "state_to_json"]


def encode_state(obj: Any) -> Any:
    """A JSON-serialisable copy of ``obj`` (NumPy arrays and scalars tagged so they round-trip exactly)."""
    if isinstance(obj, np.ndarray):
        return {"__ndarray__": obj.tolist(), "dtype": str(obj.dtype), "shape": list(obj.shape)}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        return {str(k): encode_state(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [encode_state(v) for v in obj]
    return obj


def decode_state(obj: Any) -> Any:
    """Inverse of ``encode_state``."""
    if isinstance(obj, dict):
        if "__ndarray__" in obj:
            return np.array(obj["__ndarray__"], dtype=obj["dtype"]).reshape(obj["shape"])
        return {k: decode_state(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [decode_state(v) for v in obj]
    return obj


def state_to_json(state: Any) -> str:
    # allow_nan: statistics use NaN for "never seen"; Python's json writes and reads it back.
    return json.dumps(encode_state(state), allow_nan=True)


def state_from_json(text: str) -> Any:
    return decode_state(json.loads(text))
