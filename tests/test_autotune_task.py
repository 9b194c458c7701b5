"""The clustered op-chain family: determinism, arrays = text, verifier, registry and testbed use."""

from __future__ import annotations

import numpy as np
import pytest

from autocurriculum.core import ConfigError
from autocurriculum.tasks import build_pool, make_task_family, score_completion, task_family_names
from autocurriculum.tasks.clustered_op_chain import OP_NAMES, apply_ops, encode_states, parse_states


def test_registered_and_deterministic():
    assert "clustered_op_chain" in task_family_names()
    a = make_task_family("clustered_op_chain", {"seed": 3})
    b = make_task_family("clustered_op_chain", {"seed": 3})
    assert [a.generate(6, i) for i in range(20)] == [b.generate(6, i) for i in range(20)]
    assert a.generate(6, 0) != make_task_family("clustered_op_chain", {"seed": 4}).generate(6, 0)
    assert (a.table == b.table).all() and not (
        a.table == make_task_family("clustered_op_chain", {"table_seed": 1}).table
    ).all()


def test_arrays_match_text_and_the_chain_rule():
    family = make_task_family("clustered_op_chain", {"seed": 1})
    inst = family.instances(6, np.arange(50))
    states = family.states(inst)
    for i in range(50):
        task = family.generate(6, i)
        assert task.prompt == family.prompt_text(int(inst.clusters[i]), inst.operands[i])
        assert task.demonstration == encode_states(states[i])
        s = 0
        for t in range(6):
            s = int(apply_ops(np.array(family.table[inst.clusters[i], t]), np.array(s), inst.operands[i, t], 11))
            assert s == states[i, t]


def test_cluster_distribution_is_zipf_and_ops_cover_all_four():
    family = make_task_family("clustered_op_chain")
    inst = family.instances(6, np.arange(40_000))
    freq = np.bincount(inst.clusters, minlength=128) / 40_000
    assert abs(freq[0] - family.cluster_probabilities[0]) < 0.01 and freq[0] > freq[10] > freq[100]
    assert set(np.unique(family.table)) == set(range(len(OP_NAMES)))
    assert inst.operands.min() == 0 and inst.operands.max() == 10


def test_verifier_and_parsing():
    family = make_task_family("clustered_op_chain")
    task = family.generate(6, 7)
    assert score_completion(task, task.demonstration) == 1.0
    assert score_completion(task, "garbage") == 0.0
    wrong = task.demonstration[:-1] + ("0" if task.answer != "0" else "1")
    assert score_completion(task, wrong) == 0.0
    assert parse_states(task.demonstration, 6, 11).tolist() == ["0123456789A".index(c) for c in task.demonstration[:6]]
    for bad in ("", "12|2", "1234567|7", "12345Z|Z", "123456|5", None):
        assert parse_states(bad, 6, 11) is None


def test_usable_by_generic_pool_and_tokenizer():
    family = make_task_family("clustered_op_chain", {"max_level": 3})
    pool = build_pool([family], 5)
    assert len(pool) == 15 and set(pool.levels()) == {1, 2, 3}
    assert all(len(t.prompt) == family.prompt_length for t in pool)
    assert all(set(t.prompt + t.demonstration) <= set(family.alphabet) for t in pool)


def test_bad_config_names_the_field():
    with pytest.raises(ConfigError, match="modulus"):
        make_task_family("clustered_op_chain", {"modulus": 40})
    with pytest.raises(ConfigError, match="index"):
        make_task_family("clustered_op_chain").generate(6, -1)
