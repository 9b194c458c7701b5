"""core.codec: curriculum state <-> JSON, exactly."""

import json
from pathlib import Path

import numpy as np
import pytest

from autocurriculum.core.codec import (
    StateFormatError,
    decode_state,
    encode_state,
    load_state,
    save_state,
    state_from_json,
    state_to_json,
)


def test_arrays_scalars_tuples_and_int_keys_round_trip_exactly() -> None:
    rng = np.random.default_rng(0)
    state = {
        "f32": rng.random((3, 4)).astype(np.float32),
        "nan": np.array([np.nan, 1.0, -np.inf]),
        "i16": np.array([1, -2, 32767], dtype=np.int16),
        "bool": np.array([True, False]),
        "empty": np.zeros((0, 3)),
        "ids": np.array(["a", "b"], dtype=object),
        "scalar": np.float64(0.25),
        "pair": (1, "x"),
        "optimizer": {0: {"step": np.array(3.0, dtype=np.float32)}, 1: {}},
        "rng": rng.bit_generator.state,  # 128-bit integers
        "nothing": None,
    }
    back = state_from_json(json.loads(json.dumps(state_to_json(state))))
    for key in ("f32", "i16", "bool", "empty"):
        assert back[key].dtype == state[key].dtype and np.array_equal(back[key], state[key])
    assert np.array_equal(back["nan"], state["nan"], equal_nan=True)
    assert back["ids"].tolist() == ["a", "b"] and back["scalar"] == 0.25 and back["pair"] == (1, "x")
    assert list(back["optimizer"]) == [0, 1] and back["optimizer"][0]["step"].dtype == np.float32
    assert back["optimizer"][0]["step"].shape == ()  # a 0-d array (Adam's step) stays 0-d
    assert back["rng"] == state["rng"] and back["nothing"] is None


def test_unencodable_values_name_their_path() -> None:
    with pytest.raises(StateFormatError, match=r"state\.teacher\.model: a object cannot be stored"):
        encode_state({"teacher": {"model": object()}})
    with pytest.raises(StateFormatError, match=r"state\.counts: key \(1, 2\) is a tuple"):
        encode_state({"counts": {(1, 2): 3}})
    with pytest.raises(StateFormatError, match="not a valid encoded array"):
        decode_state({"__ndarray__": "<f8", "shape": [3], "data": "!!"})


def test_save_and_load_state_refuse_broken_and_foreign_files(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    save_state({"a": np.arange(3)}, path)
    assert load_state(path)["a"].tolist() == [0, 1, 2]
    assert not (tmp_path / "state.json.tmp").exists()
    path.write_text(path.read_text()[:20])  # truncated
    with pytest.raises(StateFormatError, match=r"state\.json: cannot read curriculum state"):
        load_state(path)
    path.write_text(json.dumps({"format": "something-else/9", "state": {}}))
    with pytest.raises(StateFormatError, match="format 'something-else/9'"):
        load_state(path)
    with pytest.raises(StateFormatError, match=r"missing\.json"):
        load_state(tmp_path / "missing.json")
