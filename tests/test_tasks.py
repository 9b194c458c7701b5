"""Procedural task families: determinism, arithmetic, formats, configs and the registry."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

from autocurriculum.core.errors import ConfigError, UnknownNameError
from autocurriculum.core.task import Task, TaskPool
from autocurriculum.tasks import (
    AdditionConfig,
    AdditionFamily,
    OpChainFamily,
    TaskFamily,
    addition_answer,
    addition_prompt,
    build_pool,
    make_task_family,
    make_task_family_config,
    op_chain_demonstration,
    op_chain_prompt,
    op_chain_states,
    score_completion,
    task_family_class,
    task_family_names,
    verifier_for,
)
from autocurriculum.verifiers import ExactMatchVerifier, FinalAnswerVerifier

FAMILY_CONFIGS = [
    ("addition", {}),
    ("addition", {"width": 3, "seed": 5}),
    ("addition", {"width": 4, "reverse_operands": True}),
    ("op_chain", {}),
    ("op_chain", {"max_length": 5, "modulus": 7, "seed": 3}),
    ("op_chain", {"operators": "+-"}),
    ("op_chain", {"max_length": 6, "operators": "+-", "filler": "digits"}),
    ("op_chain", {"max_length": 6, "filler": "noise", "seed": 2}),
    ("op_chain", {"max_length": 7, "filler": "mixed", "seed": 1}),
    ("op_chain", {"max_length": 7, "filler": "mixed", "mixed_operator_one_in": 4, "seed": 3}),
]


@pytest.fixture(params=FAMILY_CONFIGS, ids=lambda p: f"{p[0]}{p[1]}")
def family(request: pytest.FixtureRequest) -> TaskFamily:
    name, values = request.param
    return make_task_family(name, values)


# --- independent reference arithmetic (does not use the library's helpers) ---


def reference_addition(prompt: str, reverse_operands: bool) -> str:
    match = re.fullmatch(r"A(\d+)\+(\d+)=", prompt)
    assert match, prompt
    left, right = match.group(1), match.group(2)
    if reverse_operands:
        left, right = left[::-1], right[::-1]
    width = len(left)
    total = int(left) + int(right)
    digits = []
    for _ in range(width + 1):
        digits.append(str(total % 10))
        total //= 10
    return "".join(digits)


def reference_op_chain(prompt: str, modulus: int) -> tuple[str, int]:
    assert prompt[0] == "C" and prompt[-1] == "="
    state = int(prompt[1])
    body = prompt[2:-1]
    states = []
    for k in range(0, len(body), 2):
        op, arg = body[k], body[k + 1]
        if "." in (op, arg):
            break  # the first pair with a '.' ends the chain; what follows is filler (or 'noise' operations)
        x = int(arg)
        state = {"+": state + x, "-": state - x, "*": state * x}[op] % modulus
        states.append(state)
    return ",".join(map(str, states)) + "|" + str(states[-1]), len(states)


# --- hand examples ---


def test_addition_hand_examples() -> None:
    assert addition_answer(357, 482, 6) == "9380000"
    assert addition_prompt(357, 482, 6) == "A000357+000482="
    assert addition_prompt(357, 482, 6, reverse_operands=True) == "A753000+284000="
    assert addition_answer(999999, 1, 6) == "0000001"  # carry into the extra digit
    assert addition_answer(999999, 999999, 6) == "8999991"
    assert addition_answer(0, 0, 2) == "000"
    assert reference_addition("A000357+000482=", False) == "9380000"


def test_op_chain_hand_examples() -> None:
    steps = [("+", 4), ("*", 2), ("-", 5)]
    assert op_chain_prompt(3, steps, 5) == "C3+4*2-5....="
    assert op_chain_prompt(3, steps, 5, padding=[".1", "+."]) == "C3+4*2-5.1+.="
    states = op_chain_states(3, steps, 10)
    assert states == [7, 4, 9]  # 3+4=7, 7*2=14->4, 4-5=-1->9
    assert op_chain_demonstration(states) == "7,4,9|9"
    assert reference_op_chain("C3+4*2-5....=", 10) == ("7,4,9|9", 3)
    assert op_chain_states(2, [("*", 3), ("-", 1)], 5) == [1, 0]
    assert reference_op_chain("C3+4*2-5..-1+7=", 10) == ("7,4,9|9", 3)  # 'noise': what follows '..' is ignored
    assert reference_op_chain("C3+4*2-5.3.8=", 10) == ("7,4,9|9", 3)  # 'digits'
    assert reference_op_chain("C3+4*2-5.3-.=", 10) == ("7,4,9|9", 3)  # 'mixed'


def test_op_chain_fillers_keep_the_chain_and_the_layout() -> None:
    """Every filler gives the same chain and answer for the same index; only what follows the chain differs."""
    tasks = {
        filler: make_task_family("op_chain", {"max_length": 6, "filler": filler}).generate(4, 11)
        for filler in ("dots", "digits", "mixed", "noise")
    }
    chain = tasks["dots"].prompt[:10]
    assert tasks["dots"].prompt == chain + "....="
    assert re.fullmatch(re.escape(chain) + r"(\.\d){2}=", tasks["digits"].prompt)
    assert re.fullmatch(re.escape(chain) + r"(\.\d|[+*-]\.){2}=", tasks["mixed"].prompt)
    assert re.fullmatch(re.escape(chain) + r"\.\.([+*-]\d){2}=", tasks["noise"].prompt)
    assert {t.demonstration for t in tasks.values()} == {tasks["dots"].demonstration}


def test_mixed_filler_operator_share() -> None:
    """``mixed_operator_one_in`` sets the chance of an operator pair: 1 gives only operator pairs, 2 is 'mixed' as
    first screened (same prompts as before the option existed), 8 lies near 'digits'."""

    def family(one_in: int) -> TaskFamily:
        options = {"max_length": 10, "operators": "+-", "filler": "mixed", "mixed_operator_one_in": one_in, "seed": 1}
        return make_task_family("op_chain", options)

    # prompts of the session-12 screen, written down before the option existed
    assert family(2).generate(1, 0).prompt == "C4-7+..8.4-..2.9+..2.4="
    assert family(2).generate(4, 2).prompt == "C3+9-9-1+6.2+..5-.-.-.="

    def operator_share(one_in: int) -> float:
        pairs = [p.prompt[4:-1] for p in (family(one_in).generate(1, i) for i in range(400))]  # 9 spare pairs each
        spare = [pair[k : k + 2] for pair in pairs for k in range(0, len(pair), 2)]
        return sum(p[0] in "+-" for p in spare) / len(spare)

    assert operator_share(1) == 1.0
    assert 0.45 < operator_share(2) < 0.55
    assert 0.09 < operator_share(8) < 0.16
    with pytest.raises(ConfigError, match="mixed_operator_one_in"):
        family(0)


# --- generation properties, for every family and level ---


def test_generated_tasks_match_reference(family: TaskFamily) -> None:
    for level in family.levels:
        for index in range(25):
            task = family.generate(level, index)
            if isinstance(family, AdditionFamily):
                assert task.answer == reference_addition(task.prompt, family.config.reverse_operands)
                assert task.demonstration == task.answer
            else:
                assert isinstance(family, OpChainFamily)
                demo, ops = reference_op_chain(task.prompt, family.config.modulus)
                assert ops == level
                assert task.demonstration == demo
                assert task.answer == demo.rsplit("|", 1)[1]
                assert set(task.prompt[2:-1:2]) - {"."} <= set(family.config.operators)


def test_demonstrations_score_one_and_wrong_answers_zero(family: TaskFamily) -> None:
    for level in family.levels:
        for index in range(10):
            task = family.generate(level, index)
            assert family.score(task, task.demonstration) == 1.0
            assert score_completion(task, task.demonstration) == 1.0
            assert verifier_for(task) is family.verifier
            wrong = str((int(task.answer[-1]) + 1) % 10)
            bad = task.demonstration[:-1] + wrong  # corrupt the last answer digit
            assert family.score(task, bad) == 0.0
            assert family.score(task, "") == 0.0


def test_determinism(family: TaskFamily) -> None:
    twin = type(family)(family.config)
    for level in family.levels:
        assert family.generate(level, 3) == twin.generate(level, 3)
        assert family.generate(level, 3) == family.generate(level, 3)
    top = family.levels[-1]
    prompts = {family.generate(top, i).prompt for i in range(30)}
    assert len(prompts) > 20  # different indices usually give different tasks


def test_generation_independent_of_call_order_and_global_state() -> None:
    fam = make_task_family("op_chain", {"seed": 1})
    first = fam.generate(4, 9)
    np.random.seed(123)
    for i in range(50):
        fam.generate(2, i)
    assert fam.generate(4, 9) == first


def test_seed_changes_tasks() -> None:
    a = make_task_family("addition", {"seed": 0})
    b = make_task_family("addition", {"seed": 1})
    assert [a.generate(6, i).prompt for i in range(10)] != [b.generate(6, i).prompt for i in range(10)]
    assert a.generate(6, 0).task_id != b.generate(6, 0).task_id


def test_prompt_and_demonstration_lengths(family: TaskFamily) -> None:
    lengths = set()
    for level in family.levels:
        for index in range(10):
            task = family.generate(level, index)
            lengths.add(len(task.prompt))
            assert len(task.demonstration) <= family.max_demonstration_length
            assert set(task.prompt + task.answer + task.demonstration) <= set(family.alphabet)
    assert lengths == {family.prompt_length}


def test_addition_answer_length_fixed_and_level_is_digits() -> None:
    fam = make_task_family("addition", {"width": 6, "reverse_operands": False})
    assert fam.levels == [1, 2, 3, 4, 5, 6]
    for level in fam.levels:
        for index in range(30):
            task = fam.generate(level, index)
            a, b = (int(x) for x in task.prompt[1:-1].split("+"))
            assert len(task.answer) == 7
            assert task.knobs == {"level": float(level), "digits": float(level)}
            if level == 1:
                assert 0 <= a <= 9 and 0 <= b <= 9
            else:
                assert len(str(a)) == level and len(str(b)) == level


def test_level_one_is_easy() -> None:
    add = make_task_family("addition")
    # operands are written least-significant digit first by default
    assert all(int(x[::-1]) < 10 for i in range(20) for x in add.generate(1, i).prompt[1:-1].split("+"))
    chain = make_task_family("op_chain")
    for i in range(20):
        task = chain.generate(1, i)
        assert len(task.demonstration) == 3  # one state, '|', the answer (no ',' with a single state)
        assert task.knobs == {"level": 1.0, "chain_length": 1.0}


def test_task_ids() -> None:
    fam = make_task_family("op_chain", {"seed": 4})
    assert fam.generate(3, 17).task_id == "op_chain:L3:s4:17"
    task = fam.generate(3, 17)
    assert task.category == "op_chain"
    assert task.level == 3.0


def test_wide_addition_beyond_int64() -> None:
    fam = make_task_family("addition", {"width": 30})
    task = fam.generate(30, 0)
    assert task.answer == reference_addition(task.prompt, fam.config.reverse_operands)


# --- configs ---


@pytest.mark.parametrize(
    ("name", "values", "field"),
    [
        ("addition", {"max_level": 7}, "max_level"),
        ("addition", {"width": 3, "max_level": 4}, "max_level"),
        ("addition", {"min_level": 3, "max_level": 2}, "max_level"),
        ("addition", {"seed": -1}, "seed"),
        ("addition", {"width": 0}, "width"),
        ("addition", {"min_level": 0}, "min_level"),
        ("addition", {"min_level": 8}, "min_level"),
        ("addition", {"bogus": 1}, "bogus"),
        ("addition", {"width": "wide"}, "width"),
        ("op_chain", {"modulus": 1}, "modulus"),
        ("op_chain", {"modulus": 11}, "modulus"),
        ("op_chain", {"max_length": 0}, "max_length"),
        ("op_chain", {"max_level": 9}, "max_level"),
        ("op_chain", {"operators": "/"}, "operators"),
        ("op_chain", {"operators": ""}, "operators"),
        ("op_chain", {"filler": "stars"}, "filler"),
        ("op_chain", {"seed": -3}, "seed"),
    ],
)
def test_config_errors_name_the_field(name: str, values: dict, field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        make_task_family(name, values)


def test_config_defaults_and_level_range() -> None:
    cfg = make_task_family_config("addition", {"width": "4", "min_level": 2})
    assert isinstance(cfg, AdditionConfig) and cfg.width == 4
    fam = make_task_family("addition", cfg)
    assert fam.levels == [2, 3, 4]
    assert make_task_family("op_chain").levels == list(range(1, 9))
    assert make_task_family("op_chain", {"max_level": 3}).levels == [1, 2, 3]


def test_generate_rejects_bad_level_and_index() -> None:
    fam = make_task_family("addition", {"width": 4, "min_level": 2})
    for level in (0, 1, 5, -1):
        with pytest.raises(ConfigError, match=f"level: {level}"):
            fam.generate(level, 0)
    with pytest.raises(ConfigError, match="level"):
        fam.generate(2.5, 0)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="index"):
        fam.generate(2, -1)
    assert fam.generate(np.int64(3), np.int64(2)) == fam.generate(3, 2)


def test_wrong_config_class_rejected() -> None:
    with pytest.raises(ConfigError, match="AdditionConfig"):
        AdditionFamily(make_task_family_config("op_chain"))  # type: ignore[arg-type]


# --- registry and pools ---


def test_registry() -> None:
    assert {"addition", "op_chain"} <= set(task_family_names())
    assert task_family_class("addition") is AdditionFamily
    assert isinstance(AdditionFamily.verifier, ExactMatchVerifier)
    assert isinstance(OpChainFamily.verifier, FinalAnswerVerifier)
    with pytest.raises(UnknownNameError) as info:
        make_task_family("subtraction")
    message = str(info.value)
    assert "subtraction" in message and "addition" in message and "op_chain" in message


def test_verifier_for_unknown_category() -> None:
    with pytest.raises(UnknownNameError, match="addition"):
        verifier_for(Task("x", "p", "a", category="nope"))


def test_build_pool() -> None:
    add = make_task_family("addition", {"width": 4})
    chain = make_task_family("op_chain", {"max_length": 5})
    pool = build_pool([add, chain], tasks_per_level=6)
    assert isinstance(pool, TaskPool)
    assert len(pool) == (4 + 5) * 6
    assert len(set(pool.ids)) == len(pool)
    assert sorted(set(pool.levels())) == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert np.sum(pool.levels() == 5.0) == 6  # only op_chain has level 5
    assert {"level", "digits", "chain_length"} <= set(pool.knob_names)
    assert pool.category_names == ["addition", "op_chain"]
    for task in pool:
        assert score_completion(task, task.demonstration) == 1.0
    # Rebuilding gives the same ids and prompts; an offset gives disjoint ids.
    again = build_pool([add, chain], tasks_per_level=6)
    assert list(again.ids) == list(pool.ids)
    assert [t.prompt for t in again] == [t.prompt for t in pool]
    held_out = build_pool([add, chain], tasks_per_level=6, index_offset=6)
    assert not set(held_out.ids) & set(pool.ids)
    assert pool.get("addition:L2:s0:3") == add.generate(2, 3)


def test_build_pool_validates_sizes() -> None:
    fam = make_task_family("addition")
    with pytest.raises(ConfigError, match="tasks_per_level"):
        build_pool([fam], tasks_per_level=0)
    with pytest.raises(ConfigError, match="index_offset"):
        build_pool([fam], tasks_per_level=1, index_offset=-1)


def test_no_torch_import() -> None:
    # Task families are part of the NumPy-only layer.
    assert "autocurriculum.tasks" in sys.modules
    code = "import sys, autocurriculum.tasks, autocurriculum.verifiers; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
