"""One JSON-safe codec for curriculum state, so a state saved by one trainer loads in any other.

``Curriculum.state_dict()`` holds NumPy arrays, NumPy scalars, tuples and a NumPy bit-generator state (with
integers wider than 64 bits). ``encode_state`` turns that into plain JSON types; ``decode_state`` turns it back,
with the arrays' dtypes and shapes intact, so ``load_state_dict(decode_state(json.loads(json.dumps(encode_state(
state)))))`` continues exactly where the original stopped. Arrays are stored as base64 of their bytes (a 10M-row
posterior stays a few tens of MB of text, not hundreds).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np

from autocurriculum.core.errors import StateFormatError

FORMAT = "autocurriculum.state/1"
_ARRAY = "__ndarray__"
_TUPLE = "__tuple__"
_PAIRS = "__pairs__"  # a dict with non-string keys


def encode_state(value: Any, path: str = "state") -> Any:
    """``value`` with every NumPy array, NumPy scalar and tuple replaced by a JSON-safe equivalent."""
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return {_ARRAY: "object", "shape": list(value.shape), "items": [encode_state(v) for v in value.ravel()]}
        data = np.ascontiguousarray(value)
        return {
            _ARRAY: data.dtype.str,
            "shape": list(value.shape),  # not data.shape: ascontiguousarray makes a 0-d array 1-d
            "data": base64.b64encode(data.tobytes()).decode("ascii"),
        }
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        if all(isinstance(key, str) for key in value):
            return {key: encode_state(item, f"{path}.{key}") for key, item in value.items()}
        for key in value:  # int keys (an optimizer's per-parameter state) are kept as pairs, types intact
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise StateFormatError(f"{path}: key {key!r} is a {type(key).__name__}; keys must be str or int")
        return {_PAIRS: [[key, encode_state(item, f"{path}[{key!r}]")] for key, item in value.items()]}
    if isinstance(value, tuple):
        return {_TUPLE: [encode_state(v, f"{path}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [encode_state(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise StateFormatError(f"{path}: a {type(value).__name__} cannot be stored in a JSON-safe state")


def decode_state(value: Any, path: str = "state") -> Any:
    """The inverse of ``encode_state``."""
    if isinstance(value, dict):
        if _ARRAY in value:
            return _decode_array(value, path)
        if _PAIRS in value:
            return {key: decode_state(item, f"{path}[{key!r}]") for key, item in value[_PAIRS]}
        if _TUPLE in value:
            return tuple(decode_state(v, f"{path}[{i}]") for i, v in enumerate(value[_TUPLE]))
        return {key: decode_state(item, f"{path}.{key}") for key, item in value.items()}
    if isinstance(value, list):
        return [decode_state(v, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


def _decode_array(value: dict[str, Any], path: str) -> np.ndarray:
    try:
        shape = tuple(int(n) for n in value["shape"])
        if value[_ARRAY] == "object":
            items = [decode_state(v, path) for v in value["items"]]
            array = np.empty(len(items), dtype=object)
            array[:] = items
            return array.reshape(shape)
        dtype = np.dtype(value[_ARRAY])
        raw = base64.b64decode(value["data"], validate=True)
        return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    except (KeyError, TypeError, ValueError) as exc:
        raise StateFormatError(f"{path}: not a valid encoded array ({exc})") from None


def state_to_json(state: dict[str, Any]) -> str:
    """``state`` as one JSON string (NaN, used for "never seen", is written as JSON's NaN extension)."""
    return json.dumps({"format": FORMAT, "state": encode_state(state)}, allow_nan=True)


def state_from_json(text: str, source: str = "state") -> dict[str, Any]:
    """The state in a string written by ``state_to_json``; ``source`` names it in errors."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StateFormatError(f"{source}: cannot read curriculum state ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        found = document.get("format") if isinstance(document, dict) else type(document).__name__
        raise StateFormatError(f"{source}: not a curriculum state (format {found!r}, expected {FORMAT!r})")
    return decode_state(document["state"], source)


def save_state(state: dict[str, Any], path: str | Path) -> None:
    """Write ``state`` as JSON, atomically: a crash mid-write leaves the previous file intact."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(state_to_json(state), encoding="utf-8")
    tmp.replace(path)


def load_state(path: str | Path) -> dict[str, Any]:
    """Read a state written by ``save_state``; an unreadable or foreign file is an error naming it."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StateFormatError(f"{path}: cannot read curriculum state ({exc})") from None
    return state_from_json(text, str(path))


def curriculum_state(document: dict[str, Any], source: str = "state") -> dict[str, Any]:
    """The curriculum's own state inside any of the library's state files.

    A bare ``Curriculum.state_dict()`` (the testbed's) is returned as is; the TRL sampler's
    ``autocurriculum_state.json`` and the verl service's ``state_path`` keep it under ``curriculum``. So a state
    written by one trainer loads into another: ``load_curriculum(curriculum, path)``.
    """
    if "strategy" in document:
        return document
    inner = document.get("curriculum")
    if isinstance(inner, dict) and "strategy" in inner:
        return inner
    raise StateFormatError(f"{source}: holds no curriculum state (keys: {', '.join(sorted(document)) or 'none'})")


def save_curriculum(curriculum: Any, path: str | Path) -> None:
    """Write ``curriculum.state_dict()`` as a portable JSON state file."""
    save_state(curriculum.state_dict(), path)


def load_curriculum(curriculum: Any, path: str | Path) -> None:
    """Continue ``curriculum`` from the curriculum state in ``path``, whichever trainer wrote it.

    A state from another strategy or pool is refused by ``load_state_dict`` with both names.
    """
    curriculum.load_state_dict(curriculum_state(load_state(path), str(path)))
