"""SOAR at tiny size: fail@K, the format filter and resampling, RLOO, promotion, the grounded reward, the hard test
split's isolation, determinism, save/resume, and the CLI end to end."""

from __future__ import annotations

import copy
import dataclasses
import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import yaml
from typer.testing import CliRunner

from autocurriculum.cli import app
from autocurriculum.core import ConfigError, derive_seed, make_curriculum, merge_values
from autocurriculum.core.errors import InvalidArgumentError
from autocurriculum.experiments.config import TestbedConfig
from autocurriculum.experiments.testbed import Testbed
from autocurriculum.experiments.warm_start import BASE_STUDENTS, WarmStartNotConverged, warm_start_filename
from autocurriculum.soar import SOARConfig, SOARLoop, TeacherWroteNothing, build_setup, promoted_pool
from autocurriculum.soar import loop as loop_module
from autocurriculum.soar.config import DOTS_OP_CHAIN
from autocurriculum.soar.evaluation import corrupt_answers
from autocurriculum.soar.grammar import (
    QuestionFormat,
    grammar_question,
    grammar_solutions,
    pretraining_corpus,
    true_states,
)
from autocurriculum.soar.hard_set import build_hard_set, fail_at_k, hard_candidates
from autocurriculum.soar.loop import learnability, median_run
from autocurriculum.soar.promotion import PromotionRule
from autocurriculum.soar.questions import diversity_bits, question_vendi, read_questions, write_questions
from autocurriculum.soar.rloo import rloo_advantages
from autocurriculum.soar.setup import SOARSetup
from autocurriculum.soar.student import (
    final_answer_reward,
    greedy_accuracy,
    hard_problem_reward,
    pass_at_k,
    question_reward,
    trained_copy,
)
from autocurriculum.soar.teacher import CallableQuestionTeacher, TinyQuestionTeacher
from autocurriculum.tasks.base import score_completion
from autocurriculum.tasks.datasets import pool_records
from autocurriculum.tasks.op_chain import OpChainConfig
from autocurriculum.trainers.threads import torch_threads

cli = CliRunner()

# A student warm-started for a few hundred steps (it writes the solution format, fails the hard levels), its copy
# taught to write questions for a few steps, on chains of at most
# 4 operations: every stage of the loop runs in well under a second.
TINY: dict[str, Any] = {
    "student": {
        "testbed": {
            "task_options": {"op_chain": {"max_length": 4, "operators": "+-"}},
            "train_tasks_per_level": 4,
            "eval_tasks_per_level": 4,
            "min_eval_prompts_per_level": 2,
            "pass_rate_samples": 0,
            "warm_start_cache": "",
        },
        "warm_start": {
            "steps": 300,
            "max_level": 2,
            "demonstrations_per_level": 200,
            "target_accuracy": 0.5,
            "check_every": 50,
            "attempts": 1,
        },
        "model": {"d_model": 16, "n_layers": 1, "n_heads": 2},
        "grpo": {"group_size": 4},
    },
    "hard_set": {"levels": [3, 4], "candidates_per_level": 6, "fail_at_k": 4},
    "teacher": {"pretrain_steps": 300, "pretrain_examples": 2000},
    "inner": {"steps": 2, "steps_after_promotion": 1, "prompts_per_step": 2, "runs": 2},
    "outer": {"steps": 4, "sets_per_step": 2, "questions_per_set": 3, "reward_questions": 4, "intrinsic_samples": 2},
    "evaluation": {
        "synthetic_steps": 1,
        "hard_steps": 1,
        "prompts_per_step": 2,
        "samples": 4,
        "pass_at": [1, 4],
        "sampled_questions": 4,
        "student_seeds": 2,
    },
}


def tiny_config(**sections: Any) -> SOARConfig:
    return SOARConfig.from_values(merge_values(TINY, sections))


@pytest.fixture(scope="module")
def setup() -> Iterator[SOARSetup]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with warnings.catch_warnings():  # the tiny warm start is short on purpose
        warnings.simplefilter("ignore", WarmStartNotConverged)
        built = build_setup(tiny_config())
    yield built
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def pretrained(setup: SOARSetup) -> TinyQuestionTeacher:
    """The pretrained teacher, built once (pretraining is deterministic); tests train copies of it."""
    return setup.pretrained_teacher()


def with_config(setup: SOARSetup, **sections: Any) -> SOARSetup:
    config = tiny_config(**sections)
    question_format = QuestionFormat.for_teacher(setup.family_config, config.teacher)
    return SOARSetup(config, setup.testbed, setup.student, setup.hard_set, question_format)


def well_formed_writer(setup: SOARSetup, malformed_every: int = 0):
    """A callable teacher writing real problems of levels 1-2 (every ``malformed_every``-th string broken)."""
    family = setup.testbed.families[0]
    count = {"n": 0}

    def write(prompt: str) -> str:
        count["n"] += 1
        task = family.generate(1 + count["n"] % 2, 3_000_000 + count["n"])
        if malformed_every and count["n"] % malformed_every == 0:
            return task.prompt.replace("=", "")  # malformed: the loop must resample it
        return f"{task.prompt}#{task.demonstration}"

    return write


# ----- the format filter and the grammar -----
def test_the_format_filter_accepts_exactly_student_shaped_questions() -> None:
    question_format = QuestionFormat(OpChainConfig(max_length=4, operators="+-"))
    parsed = question_format.parse("C3+4-2....=", "7,5|5")
    assert parsed is not None and (parsed.level, parsed.operators, parsed.answer) == (2, "+-", "5")
    assert question_format.true_answer(parsed) == "5"
    assert parsed.solution == "7,5|5"  # the teacher's whole written solution is kept
    bare = question_format.parse("C3+4-2....=", "5")  # a bare answer digit (a callable teacher's)
    assert bare is not None and bare.solution is None and bare == dataclasses.replace(parsed, solution=None)
    assert question_format.parse("C3+4*2....=", "1|1").operators == "+*"  # a broader operator is well-formed
    for question in ("C3+4-2....", "C3+4-2..=", "C3+4-2......=", "C3....=", "X3+4-2....=", "C3++4-2...="):
        assert question_format.parse(question, "5|5") is None, question
    for answer in (None, "", "7,5|", "7,5|55", "7,5|x", "7,5"):
        assert question_format.parse("C3+4-2....=", answer) is None, answer
    # where the student is scored on the written solution, the answer must be one: a state per operation, '|', a digit
    solutions = QuestionFormat(OpChainConfig(max_length=4, operators="+-"), written_solution=True)
    assert solutions.parse("C3+4-2....=", "7,5|5") == parsed and solutions.parse("C3+4-2....=", "1,1|1") is not None
    for answer in ("5", "7|5", "7,5,1|1", "7,,5|5", "75|5"):
        assert solutions.parse("C3+4-2....=", answer) is None, answer


def test_the_grammar_writes_every_level_and_some_malformed_questions() -> None:
    from autocurriculum.soar.config import GrammarConfig

    family = OpChainConfig(max_length=6, operators="+-")
    grammar = GrammarConfig(max_level=6, malformed_fraction=0.2)
    question_format = QuestionFormat(family)
    rng = np.random.default_rng(0)
    questions = [grammar_question(rng, grammar, family) for _ in range(2000)]
    parsed = [question_format.parse(q, "0") for q in questions]
    well_formed = [p for p in parsed if p is not None]
    assert 0.75 < len(well_formed) / len(parsed) < 0.85
    assert {p.level for p in well_formed} == set(range(1, 7))
    assert max(len(q) for q in questions) == 2 * 6 + 3  # a malformed question still fits the student's context
    assert pretraining_corpus(5, grammar, family, seed=1) == pretraining_corpus(5, grammar, family, seed=1)


def test_the_grammars_own_solutions_are_true_but_for_the_slips() -> None:
    from autocurriculum.soar.config import GrammarConfig

    family = OpChainConfig(max_length=6, operators="+-")
    question_format = QuestionFormat(family, written_solution=True)
    rng = np.random.default_rng(0)
    clean_grammar = GrammarConfig(operators="+-", max_level=6, wrong_solution_fraction=0.0)
    noisy_grammar = GrammarConfig(operators="+-", max_level=6, wrong_solution_fraction=0.3)
    questions = [grammar_question(rng, clean_grammar, family) for _ in range(3000)]
    parsed = [QuestionFormat(family).parse(q, "0") for q in questions]
    clean = grammar_solutions(questions, clean_grammar, family, seed=1)
    example = QuestionFormat(family).parse("C3+4-2........=", "5")
    assert example is not None and question_format.true_solution(example) == "7,5|5"
    assert all((s is None) == (p is None) for s, p in zip(clean, parsed, strict=True))  # malformed: no solution
    for solution, question in zip(clean, parsed, strict=True):
        if question is not None:
            assert solution == question_format.true_solution(question)

    noisy = grammar_solutions(questions, noisy_grammar, family, seed=1)
    assert noisy == grammar_solutions(questions, noisy_grammar, family, seed=1)  # seeded
    wrong = 0
    for solution, question in zip(noisy, parsed, strict=True):
        if question is None:
            continue
        assert question_format.parse(question.question, solution) is not None  # a slip keeps the solution's shape
        truth = true_states(question, family.modulus)
        states = [int(c) for c in solution.split("|")[0].split(",")]
        if states != truth:
            wrong += 1
            first = next(i for i, (a, b) in enumerate(zip(states, truth, strict=True)) if a != b)
            assert states[-1] != truth[-1]  # under + and - a slip carries to the answer
            body = question.question[2 : 2 + 2 * question.level]
            for i in range(first + 1, question.level):  # after the slip every step is computed right
                step = int(body[2 * i + 1]) * (1 if body[2 * i] == "+" else -1)
                assert states[i] == (states[i - 1] + step) % family.modulus
    well_formed = sum(p is not None for p in parsed)
    assert 0.25 < wrong / well_formed < 0.35


def test_a_grammar_taught_teacher_is_trained_on_the_grammars_solutions(
    setup: SOARSetup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """teacher.pretrain_answers: 'self' appends the base student's samples, 'grammar' the grammar's solutions (its
    malformed questions keep the samples)."""
    from autocurriculum.soar import teacher as teacher_module

    corpora: list[list[tuple[str, str]]] = []

    def capture(trainer: Any, corpus: list[tuple[str, str]], steps: int, progress: bool = False) -> dict[str, float]:
        corpora.append(corpus)
        return {"loss": 0.0, "steps": 0}

    monkeypatch.setattr(teacher_module.SFTTrainer, "train", capture)
    examples = {"pretrain_examples": 300}
    with_config(setup, teacher=examples).pretrained_teacher()
    with_config(setup, teacher={**examples, "pretrain_answers": "grammar"}).pretrained_teacher()
    own, taught = corpora
    config = tiny_config(teacher={**examples, "pretrain_answers": "grammar"})
    pairs = pretraining_corpus(300, config.teacher.grammar, setup.family_config, config.seed)
    questions = [prompt + rest for prompt, rest in pairs]
    known = grammar_solutions(questions, config.teacher.grammar, setup.family_config, config.seed)
    assert sum(k is not None for k in known) > 200
    for (_, rest), (_, own_text), (_, taught_text), solution in zip(pairs, own, taught, known, strict=True):
        assert own_text.startswith(rest)
        assert taught_text == (own_text if solution is None else rest + solution)
    assert sum(a != b for (_, a), (_, b) in zip(own, taught, strict=True)) > 100  # samples are not the grammar's


def test_the_teacher_writes_questions_and_answers_them_itself(
    setup: SOARSetup, pretrained: TinyQuestionTeacher
) -> None:
    rollouts = pretrained.write(64, seed=3)
    assert [r.question for r in rollouts] == [r.question for r in pretrained.write(64, seed=3)]
    parsed = [setup.question_format.parse(r.question, r.answer_text) for r in rollouts]
    assert any(p is not None for p in parsed)
    assert all(r.question.startswith("C") for r in rollouts)
    advantages = np.linspace(-1, 1, 64)
    before = copy.deepcopy(pretrained.model.state_dict())
    teacher = copy.deepcopy(pretrained)
    stats = teacher.update(rollouts, advantages)
    assert np.isfinite(stats["loss"]) and stats["kl"] == pytest.approx(0.0, abs=1e-6)  # first step: still the reference
    assert any(not torch.equal(before[k], v) for k, v in teacher.model.state_dict().items())


# ----- statistics of the loop -----
def test_rloo_advantages_sum_to_zero_and_leave_one_out() -> None:
    rewards = np.array([0.1, 0.4, -0.2, 0.3])
    advantages = rloo_advantages(rewards)
    assert advantages.sum() == pytest.approx(0.0, abs=1e-12)
    assert advantages[1] == pytest.approx(0.4 - np.mean([0.1, -0.2, 0.3]))
    with pytest.raises(ValueError, match="at least 2"):
        rloo_advantages([1.0])
    with pytest.raises(ValueError, match="NaN"):
        rloo_advantages([1.0, float("nan")])


def test_promotion_needs_the_moving_average_above_tau_and_restarts_after() -> None:
    rule = PromotionRule(threshold=0.01, window=3)
    assert rule.observe(0.03) == (pytest.approx(0.03), True)
    rule.reset()
    assert rule.observe(0.0)[1] is False
    assert rule.observe(0.0)[1] is False
    average, promote = rule.observe(0.03)  # (0 + 0 + 0.03) / 3 = 0.01: not above tau
    assert average == pytest.approx(0.01) and promote is False
    average, promote = rule.observe(0.03)  # window (0, 0.03, 0.03): 0.02
    assert average == pytest.approx(0.02) and promote is True
    restored = PromotionRule(0.01, 3)
    restored.load_state_dict(rule.state_dict())
    assert restored.observe(-0.06) == rule.observe(-0.06)


def test_learnability_median_run_and_pass_at_k() -> None:
    assert learnability(np.array([0.0, 0.25, 1.0])).tolist() == [0.0, 0.75, 0.0]
    assert median_run([0.3, 0.1, 0.2]) == 2 and median_run([0.5, 0.1]) == 1
    assert pass_at_k(4, 0, 2) == 0.0 and pass_at_k(4, 3, 2) == 1.0
    assert pass_at_k(4, 1, 2) == pytest.approx(0.5)
    assert pass_at_k(32, 1, 1) == pytest.approx(1 / 32)
    with pytest.raises(ValueError, match="k must lie"):
        pass_at_k(4, 1, 5)


# ----- the hard set -----
def test_fail_at_k_keeps_only_problems_never_solved(setup: SOARSetup) -> None:
    testbed = setup.testbed
    candidates = hard_candidates(testbed, setup.config.hard_set)
    kept = fail_at_k(setup.student, testbed, candidates, 4, 1.0, "trace", seed=0)
    assert kept.all()  # an untrained student solves nothing under trace scoring
    assert len(setup.hard_set.train) + len(setup.hard_set.test) == len(candidates)
    test_prompts = {t.prompt for t in setup.hard_set.test}
    assert test_prompts.isdisjoint(t.prompt for t in setup.hard_set.train)
    # a "student" that answers every prompt with its demonstration solves everything: nothing survives
    reward = hard_problem_reward(testbed, "trace")
    assert reward(candidates[:2], [t.demonstration for t in candidates[:2]]).tolist() == [1.0, 1.0]
    assert reward(candidates[:1], [candidates[0].demonstration.replace(",", ";", 1)]).tolist() == [0.0]


def test_an_empty_hard_set_is_an_error_naming_levels_and_k(setup: SOARSetup, monkeypatch: pytest.MonkeyPatch) -> None:
    from autocurriculum.soar import hard_set as hard_set_module

    monkeypatch.setattr(hard_set_module, "fail_at_k", lambda *a, **k: np.zeros(12, dtype=bool))
    with pytest.raises(ConfigError, match=r"levels \[3, 4\].*fail@4"):
        build_hard_set(setup.student, setup.testbed, setup.config.hard_set, seed=0)


# ----- the loop -----
def test_malformed_rollouts_are_resampled_and_a_silent_teacher_skips_a_step(setup: SOARSetup) -> None:
    loop = SOARLoop(setup, CallableQuestionTeacher(well_formed_writer(setup, malformed_every=3), "?"))
    record = loop.step()
    assert not record["skipped"] and record["well_formed"] == 6 and record["written"] > 6
    silent = SOARLoop(setup, CallableQuestionTeacher(lambda prompt: "no question here", "?"))
    with pytest.warns(TeacherWroteNothing, match="step skipped"):
        record = silent.step()
    assert record["skipped"] and silent.skipped_steps == 1 and silent.step_index == 1


def test_the_reward_is_the_gain_over_the_baseline_student(setup: SOARSetup) -> None:
    loop = SOARLoop(setup, CallableQuestionTeacher(well_formed_writer(setup), "?"))
    rewards, runs, before = loop._grounded_rewards([loop._write_questions(3, 0)[1]], setup.hard_set.train[:4], t=0)
    testbed, config = setup.testbed, setup.config
    expected = []
    for j in range(config.inner.runs):
        tasks = [q.task() for q in loop._write_questions(3, 0)[1]]
        model, _ = trained_copy(
            setup.student,
            testbed,
            config.student.grpo,
            tasks,
            config.inner.steps,
            config.inner.prompts_per_step,
            final_answer_reward(testbed),
            seed=derive_seed(0, 0, 3, 0, j),
        )
        expected.append(
            greedy_accuracy(model, testbed, setup.hard_set.train[:4], hard_problem_reward(testbed, "trace"))
        )
    assert before == greedy_accuracy(
        setup.student, testbed, setup.hard_set.train[:4], hard_problem_reward(testbed, "trace")
    )
    assert rewards[0] == pytest.approx(np.mean(expected) - before)
    assert runs[0][1] == pytest.approx([e - before for e in expected])


def test_the_sampled_reward_metric_is_the_gain_in_sampled_success(setup: SOARSetup) -> None:
    from autocurriculum.soar.student import success_counts

    sampled = with_config(setup, outer={**TINY["outer"], "reward_metric": "sampled", "reward_samples": 3})
    loop = SOARLoop(sampled, CallableQuestionTeacher(well_formed_writer(sampled), "?"))
    questions = loop._write_questions(3, 0)[1]
    reward_questions = setup.hard_set.train[:4]
    rewards, runs, before = loop._grounded_rewards([questions], reward_questions, t=0)
    testbed, reward = setup.testbed, hard_problem_reward(setup.testbed, "trace")

    def rate(model: Any) -> float:
        generator = torch.Generator().manual_seed(derive_seed(0, 0, 5))
        return float(success_counts(model, testbed, reward_questions, 3, 1.0, reward, generator).mean() / 3)

    assert before == rate(setup.student)
    assert runs[0][1] == pytest.approx([rate(m) - before for m in runs[0][0]])
    assert rewards[0] == pytest.approx(np.mean(runs[0][1]))


def test_the_probe_reward_is_the_gain_after_the_same_probe_on_q_r_and_promotion_keeps_the_unprobed_student(
    setup: SOARSetup,
) -> None:
    probing = with_config(setup, inner={**TINY["inner"], "probe_steps": 2})
    loop = SOARLoop(probing, CallableQuestionTeacher(well_formed_writer(probing), "?"))
    questions = loop._write_questions(3, 0)[1]
    reward_questions = setup.hard_set.train[:4]
    rewards, runs, before = loop._grounded_rewards([questions], reward_questions, t=0)
    testbed, config = setup.testbed, probing.config
    reward = hard_problem_reward(testbed, "trace")

    def probed_accuracy(model: Any, run: int) -> float:
        probed, _ = trained_copy(
            model,
            testbed,
            config.student.grpo,
            reward_questions,
            2,
            config.inner.prompts_per_step,
            reward,
            seed=derive_seed(0, 0, 6, run),
        )
        return greedy_accuracy(probed, testbed, reward_questions, reward)

    baseline_by_run = [probed_accuracy(setup.student, j) for j in range(config.inner.runs)]
    assert before == pytest.approx(np.mean(baseline_by_run))
    expected = [probed_accuracy(m, j) - baseline_by_run[j] for j, m in enumerate(runs[0][0])]
    assert runs[0][1] == pytest.approx(expected) and rewards[0] == pytest.approx(np.mean(expected))
    # the kept students are the inner runs' own (a promotion never keeps a student trained on Q_R)
    unprobed = [q.task() for q in questions]
    kept, _ = trained_copy(
        setup.student,
        testbed,
        config.student.grpo,
        unprobed,
        config.inner.steps,
        config.inner.prompts_per_step,
        final_answer_reward(testbed),
        seed=derive_seed(0, 0, 3, 0, 0),
    )
    kept_weights, run_weights = kept.state_dict(), runs[0][0][0].state_dict()
    assert all(torch.equal(kept_weights[name], run_weights[name]) for name in kept_weights)
    # and the probes' rollouts are charged to the student budget
    plain = SOARLoop(setup, CallableQuestionTeacher(well_formed_writer(setup), "?"))
    plain._grounded_rewards([plain._write_questions(3, 0)[1]], reward_questions, t=0)
    probes = 2 * config.inner.runs  # the baseline's and the set's, per run
    per_probe = 2 * config.inner.prompts_per_step * config.student.grpo.group_size
    assert loop.student_rollouts - plain.student_rollouts == probes * per_probe
    with pytest.raises(ConfigError, match="probe_steps"):
        with_config(setup, inner={**TINY["inner"], "probe_steps": -1})


def test_the_loop_never_scores_the_hard_test_split(
    setup: SOARSetup, pretrained: TinyQuestionTeacher, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    real = loop_module.greedy_accuracy

    def spy(model, testbed, tasks, reward):
        seen.extend(t.prompt for t in tasks)
        return real(model, testbed, tasks, reward)

    monkeypatch.setattr(loop_module, "greedy_accuracy", spy)
    loop = SOARLoop(setup, copy.deepcopy(pretrained))
    loop.run()
    assert loop.skipped_steps < loop.step_index
    assert seen and set(seen) <= {t.prompt for t in setup.hard_set.train}
    assert set(seen).isdisjoint(t.prompt for t in setup.hard_set.test)


def test_promotion_moves_the_baseline_to_the_best_sets_median_student(setup: SOARSetup) -> None:
    always = with_config(setup, outer={**TINY["outer"], "promotion_threshold": -1.0, "steps": 2})
    loop = SOARLoop(always, CallableQuestionTeacher(well_formed_writer(always), "?"))
    measured: list[Any] = []
    grounded = loop._grounded_rewards

    def spy(*args: Any, **kwargs: Any) -> Any:
        measured.append(grounded(*args, **kwargs))
        return measured[-1]

    loop._grounded_rewards = spy  # type: ignore[method-assign]
    record = loop.step()
    rewards, runs, _ = measured[-1]
    best = int(np.argmax(rewards))
    assert record["promoted_set"] == best and loop.promotions == 1 and len(loop.promoted) == 3
    assert loop.baseline is runs[best][0][median_run(runs[best][1])]
    loop.step()  # a promoted student trains steps + steps_after_promotion in its inner runs
    assert loop.promotions == 2 and len(loop.promoted) == 6
    assert loop.history[-1]["student_rollouts"] == loop.student_rollouts


@pytest.mark.parametrize("reward", ["grounded", "intrinsic"])
def test_a_seeded_loop_repeats_and_resumes_identically(
    setup: SOARSetup, pretrained: TinyQuestionTeacher, tmp_path: Path, reward: str
) -> None:
    configured = with_config(setup, outer={**TINY["outer"], "reward": reward, "promotion_threshold": -1.0})

    def history(loop: SOARLoop) -> list[dict[str, Any]]:
        return [{k: v for k, v in r.items() if k != "seconds"} for r in loop.history]

    straight = SOARLoop(configured, copy.deepcopy(pretrained))
    straight.run()
    again = SOARLoop(configured, copy.deepcopy(pretrained))
    again.run()
    assert history(again) == history(straight)

    first = SOARLoop(configured, copy.deepcopy(pretrained))
    first.step()
    first.step()
    first.save(tmp_path / "state.pt")
    resumed = SOARLoop(configured, copy.deepcopy(pretrained))
    resumed.load(tmp_path / "state.pt")
    resumed.run()
    assert history(resumed) == history(straight)
    assert resumed.promoted == straight.promoted
    for key, value in straight.teacher.state_dict()["model"].items():
        assert torch.equal(resumed.teacher.state_dict()["model"][key], value)


def test_a_checkpoint_from_another_config_or_a_broken_file_is_refused(
    setup: SOARSetup, pretrained: TinyQuestionTeacher, tmp_path: Path
) -> None:
    loop = SOARLoop(setup, copy.deepcopy(pretrained))
    loop.save(tmp_path / "state.pt")
    other = with_config(setup, outer={**TINY["outer"], "steps": 9})
    with pytest.raises(ValueError, match="different config"):
        SOARLoop(other, copy.deepcopy(pretrained)).load(tmp_path / "state.pt")
    (tmp_path / "broken.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match=r"broken\.pt: not a SOAR checkpoint"):
        loop.load(tmp_path / "broken.pt")


# ----- question sets -----
def test_promoted_questions_round_trip_and_become_a_task_source(setup: SOARSetup, tmp_path: Path) -> None:
    loop = SOARLoop(setup, CallableQuestionTeacher(well_formed_writer(setup), "?"))
    questions = loop._write_questions(6, 0)[1]
    write_questions(tmp_path / "promoted.jsonl", questions, seed=0)
    assert read_questions(tmp_path / "promoted.jsonl", setup.question_format) == questions
    pool = promoted_pool(tmp_path / "promoted.jsonl")
    assert len(pool) == len({(q.question, q.answer) for q in questions})
    assert pool[0].category == "op_chain" and pool[0].knobs["synthetic"] == 1.0
    # any strategy, and the TRL adapter's dataset rows, take the promoted questions like any other pool
    curriculum = make_curriculum("thompson", pool, {"seed": 0})
    assert set(curriculum.select(2)) <= {pool[i].task_id for i in range(len(pool))}
    rows = pool_records(pool)
    assert rows[0]["prompt"] == pool[0].prompt and rows[0]["answer"] == pool[0].answer
    assert score_completion(pool[0], f"0|{pool[0].answer}") == 1.0
    corrupted = corrupt_answers(questions, 0.5, 10, seed=0)
    assert sum(a.answer != b.answer for a, b in zip(questions, corrupted, strict=True)) == 3
    assert diversity_bits(questions) > 0 and diversity_bits(questions[:1]) == 0.0
    # the Vendi score sees copies: a set of one question repeated is one effective question
    assert question_vendi(questions[:1] * 4) == pytest.approx(1.0) and question_vendi([]) == 0.0
    assert 1.0 < question_vendi(questions) <= len(questions)
    (tmp_path / "bad.jsonl").write_text(
        json.dumps(json.loads(json.dumps({"question": "C1+1....=", "answer": "2", "level": 1, "operators": "+"})))
        + '\n{"question": 1}\n'
    )
    with pytest.raises(ValueError, match=r"bad.jsonl:2: missing field\(s\) answer, level, operators"):
        read_questions(tmp_path / "bad.jsonl")


def test_trace_answer_scoring_rewards_only_the_written_solution(setup: SOARSetup, tmp_path: Path) -> None:
    written = setup.question_format.parse("C3+4-2....=", "7,5|5")
    assert written is not None
    task = written.task()
    assert task.demonstration == "7,5|5"
    completions = ["7,5|5", "1,5|5", "7,5|4"]  # the written solution; the same answer by a wrong step; wrong answer
    trace, final = question_reward(setup.testbed, "trace"), question_reward(setup.testbed, "final")
    assert trace([task] * 3, completions).tolist() == [1.0, 0.0, 0.0]
    assert final([task] * 3, completions).tolist() == [1.0, 1.0, 0.0]
    bare = setup.question_format.parse("C3+4-2....=", "5")
    assert bare is not None
    with pytest.raises(InvalidArgumentError, match=rf"question {bare.task().task_id} .* has none.*'solution'"):
        trace([bare.task()], ["7,5|5"])
    # the solution travels through the JSONL files and through answer corruption
    write_questions(tmp_path / "q.jsonl", [written, bare])
    assert read_questions(tmp_path / "q.jsonl", setup.question_format) == [written, bare]
    corrupted = corrupt_answers([written], 1.0, 10, seed=0)[0]
    assert corrupted.answer != "5" and corrupted.solution == f"7,5|{corrupted.answer}"
    solutions = QuestionFormat(setup.family_config, written_solution=True)  # the format of answer_scoring 'trace'
    with pytest.raises(ValueError, match=r"q.jsonl:2: field 'solution' must be a solution of the question's 2 "):
        read_questions(tmp_path / "q.jsonl", solutions)  # the bare answer cannot be scored on its trace
    write_questions(tmp_path / "q.jsonl", [written])
    assert read_questions(tmp_path / "q.jsonl", solutions) == [written]
    row = {"question": "C3+4-2....=", "answer": "5", "level": 2, "operators": "+-", "solution": "7,5|4"}
    (tmp_path / "bad.jsonl").write_text(json.dumps(row) + "\n")
    with pytest.raises(ValueError, match=r"bad.jsonl:1: field 'solution' does not end in '\|' and the answer '5'"):
        read_questions(tmp_path / "bad.jsonl")


def test_an_outer_step_runs_under_trace_answer_scoring(setup: SOARSetup, pretrained: TinyQuestionTeacher) -> None:
    loop = SOARLoop(with_config(setup, teacher={"answer_scoring": "trace"}), copy.deepcopy(pretrained))
    record = loop.step()
    assert not record.get("skipped") and np.isfinite(record["mean_reward"])
    # a teacher that writes bare answer digits writes nothing a student could be scored against: skipped, counted
    silent_solver = SOARLoop(
        with_config(setup, teacher={"answer_scoring": "trace", "max_resample_rounds": 1}),
        CallableQuestionTeacher(lambda prompt: "C3+4-2....=#5", "?"),
    )
    with pytest.warns(TeacherWroteNothing):
        assert silent_solver.step()["skipped"]
    assert silent_solver.skipped_steps == 1


def test_format_credit_rewards_a_well_formed_wrong_attempt_in_training_only(setup: SOARSetup) -> None:
    """student.format_credit is the paper's tiered student reward: solved 1, well-formed but wrong the credit,
    malformed 0; with 0 (the default) training rewards are the success rules themselves."""
    written = setup.question_format.parse("C3+4-2....=", "7,5|5")
    assert written is not None
    question, hard = written.task(), setup.hard_set.train[0]
    level = setup.question_format.level_of(hard.prompt)
    assert level is not None
    wrong_hard = ",".join(["0"] * level) + "|0"
    assert wrong_hard != hard.demonstration
    # solved; the same answer by a wrong step; a wrong answer; one state too few; no answer; empty
    completions = ["7,5|5", "1,5|5", "7,5|4", "5|5", "7,5|", ""]
    binary = with_config(setup, teacher={"answer_scoring": "trace"})
    assert binary.question_training_reward()([question] * 6, completions).tolist() == [1, 0, 0, 0, 0, 0]
    tiered = with_config(setup, teacher={"answer_scoring": "trace"}, student={"format_credit": 0.25})
    assert tiered.question_training_reward()([question] * 6, completions).tolist() == [1, 0.25, 0.25, 0, 0, 0]
    final = with_config(setup, teacher={"answer_scoring": "final"}, student={"format_credit": 0.25})
    assert final.question_training_reward()([question] * 6, completions).tolist() == [1, 1, 0.25, 1, 0, 0]
    hard_completions = [hard.demonstration or "", wrong_hard, wrong_hard + ",0", "junk"]
    assert tiered.hard_training_reward()([hard] * 4, hard_completions).tolist() == [1, 0.25, 0, 0]


def test_the_solver_head_start_trains_the_teacher_copy_on_oracle_problems_only(setup: SOARSetup) -> None:
    """teacher.solver_steps (a control outside the paper) changes what the teacher starts from, never the student."""
    assert setup.teacher_start() is setup.student  # 0, the paper: the teacher is a copy of the base student
    student_before = {k: v.clone() for k, v in setup.student.state_dict().items()}
    ahead = with_config(setup, teacher={"solver_steps": 3})
    start = ahead.teacher_start()
    assert start is not setup.student
    changed = [k for k, v in start.state_dict().items() if not torch.equal(v, student_before[k])]
    assert changed, "3 GRPO steps left the teacher's starting copy equal to the student"
    assert all(torch.equal(v, student_before[k]) for k, v in setup.student.state_dict().items())
    again = ahead.teacher_start()  # seeded: the same head start every time
    assert all(torch.equal(v, again.state_dict()[k]) for k, v in start.state_dict().items())


def test_invalid_config_values_name_the_field() -> None:
    with pytest.raises(ConfigError, match=r"outer\.sets_per_step"):
        tiny_config(outer={"sets_per_step": 1})
    with pytest.raises(ConfigError, match=r"outer\.reward_metric"):
        tiny_config(outer={"reward_metric": "vibes"})
    with pytest.raises(ConfigError, match=r"hard_set\.scoring"):
        tiny_config(hard_set={"scoring": "vibes"})
    with pytest.raises(ConfigError, match=r"teacher\.answer_scoring"):
        tiny_config(teacher={"answer_scoring": "vibes"})
    with pytest.raises(ConfigError, match=r"teacher\.pretrain_answers"):
        tiny_config(teacher={"pretrain_answers": "oracle"})
    with pytest.raises(ConfigError, match=r"teacher\.grammar\.wrong_solution_fraction"):
        tiny_config(teacher={"grammar": {"wrong_solution_fraction": 1.5}})
    with pytest.raises(ConfigError, match=r"teacher\.solver_steps"):
        tiny_config(teacher={"solver_steps": -1})
    with pytest.raises(ConfigError, match=r"student\.format_credit"):
        tiny_config(student={"format_credit": 1.0})
    with pytest.raises(ConfigError, match=r"evaluation\.pass_at"):
        tiny_config(evaluation={"pass_at": [64]})
    digits = {"testbed": {"task_options": {"op_chain": {"max_length": 4, "operators": "+-", "filler": "digits"}}}}
    with pytest.raises(ConfigError, match=r"task_options\.op_chain\.filler.*'digits'"):
        build_setup(tiny_config(student=digits))
    with pytest.raises(ConfigError, match=r"^filler: .*'mixed'"):
        QuestionFormat(OpChainConfig(max_length=4, filler="mixed"))


def test_the_student_keeps_the_dots_filler_whatever_the_testbed_pads_with() -> None:
    """The testbed's default pads op_chain with digits and operator pairs, which the question grammar cannot parse:
    SOAR's student keeps '..' however its testbed section is given, and takes the shipped dots base student."""
    assert TestbedConfig().task_options["op_chain"]["filler"] not in ("dots", None)
    for values in ({}, {"student": {"testbed": {"workers": 2}}}):
        assert SOARConfig.from_values(values).student.testbed.task_options == {"op_chain": dict(DOTS_OP_CHAIN)}
    assert SOARConfig().student.testbed.task_options == {"op_chain": dict(DOTS_OP_CHAIN)}
    shortened = SOARConfig.from_values({"student": {"testbed": {"task_options": {"op_chain": {"max_length": 6}}}}})
    assert shortened.student.testbed.task_options["op_chain"] == {"max_length": 6, "operators": "+-"}
    student = SOARConfig.from_values({}).student
    testbed = Testbed(student.testbed, student.seed, model=student.model, warm_start=student.warm_start)
    with torch_threads(1):
        assert (BASE_STUDENTS / warm_start_filename(testbed, student.sft)).exists()


@pytest.mark.parametrize("path", sorted((Path(__file__).parent.parent / "benchmarks").glob("soar_*.yaml")))
def test_soar_benchmark_configs_build_on_the_dots_student(path: Path) -> None:
    config = SOARConfig.from_values(yaml.safe_load(path.read_text()), source=path.name)
    assert config.student.testbed.task_options["op_chain"].get("filler", "dots") == "dots"


# ----- end to end -----
@pytest.mark.filterwarnings("ignore::autocurriculum.experiments.warm_start.WarmStartNotConverged")
def test_soar_compare_writes_every_output(tmp_path: Path) -> None:
    config = tmp_path / "soar.json"
    config.write_text(json.dumps(TINY))
    result = cli.invoke(
        app, ["soar", "compare", "--config", str(config), "--seeds", "0", "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    summary = json.loads((out / "summary.json").read_text())
    assert {
        "base",
        "hard-only",
        "hard-only-4x",
        "oracle-curriculum",
        "base-t",
        "intrinsic-t",
        "grounded-t",
        "ps",
    } <= set(summary["arms"])
    assert summary["arms"]["hard-only-4x"]["student_rollouts"] == 4 * summary["arms"]["hard-only"]["student_rollouts"]
    assert summary["arms"]["hard-only"]["student_rollouts"] == summary["arms"]["base-t"]["student_rollouts"]
    for name in ("report.md", "teacher_reward.png", "pass_at_k.png", "diversity.png"):
        assert (out / name).stat().st_size > 0
    for name in (
        "history-grounded.jsonl",
        "history-intrinsic.jsonl",
        "questions-base-t.jsonl",
        "hard_set.json",
        "result.json",
    ):
        assert (out / "seed-0" / name).exists()
    assert "Hard-Only" in (out / "report.md").read_text()

    run = cli.invoke(app, ["soar", "run", "--config", str(config), "--out", str(tmp_path / "run")])
    assert run.exit_code == 0, run.output
    assert (tmp_path / "run" / "state-grounded.pt").exists() and (tmp_path / "run" / "promoted.jsonl").exists()
    sets = [str(out / "seed-0" / f"questions-{arm}.jsonl") for arm in ("base-t", "grounded-t")]
    evaluated = cli.invoke(app, ["soar", "evaluate", *sets, "--config", str(config)])
    assert evaluated.exit_code == 0, evaluated.output
    output = "".join(evaluated.output.split())  # rich wraps long lines
    assert output.count("hard-only:pass@1") == 1  # Hard-Only runs once for every set
    assert all(output.count(f"{name}:pass@1") == 1 for name in sets)
    assert output.count("perstudent:") == 3
    missing = cli.invoke(app, ["soar", "evaluate", sets[0], str(tmp_path / "none.jsonl"), "--config", str(config)])
    assert missing.exit_code != 0 and "none.jsonl" in " ".join(str(missing.exception).split())


@pytest.mark.filterwarnings("ignore::autocurriculum.experiments.warm_start.WarmStartNotConverged")
def test_seeds_in_parallel_workers_give_the_same_summary(tmp_path: Path) -> None:
    from autocurriculum.soar.experiment import compare

    config = tiny_config()
    arms = ["base", "hard-only", "base-t"]
    # worker processes run one torch thread each; the in-process run must too, or its sums round differently
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        one = compare(config, [0, 1], tmp_path / "one", arms, workers=1)
    finally:
        torch.set_num_threads(threads)
    two = compare(config, [0, 1], tmp_path / "two", arms, workers=2)
    assert one["arms"] == two["arms"]
    per_student = one["per_seed"][0]["arms"]["hard-only"]["per_student"]
    assert len(per_student) == 2
    assert one["per_seed"][0]["arms"]["hard-only"]["pass@1"] == pytest.approx(
        np.mean([r["pass@1"] for r in per_student])
    )


def test_unknown_arms_are_refused_by_name(tmp_path: Path) -> None:
    result = cli.invoke(app, ["soar", "compare", "--arms", "hard-only,magic", "--out", str(tmp_path)])
    assert result.exit_code != 0
    assert "magic" in str(result.exception) or "magic" in result.output


# ----- reports over several runs -----
def _fake_compare(out: Path, config: SOARConfig, pass32: dict[int, dict[str, float | None]]) -> None:
    """A compare output directory with the given per-seed pass@32 (None: the arm was skipped, as PQ is without a
    promotion), without training anything."""
    from autocurriculum.soar.experiment import summarise

    per_seed = []
    for seed, arms in pass32.items():
        results: dict[str, Any] = {}
        for arm, score in arms.items():
            if score is None:
                results[arm] = {"skipped": "no questions (no promotion, or an empty subset)"}
            else:
                results[arm] = {"pass@1": score / 4, "pass@8": score / 2, "pass@32": score, "student_rollouts": 64}
        teachers = {
            "grounded": {
                "promotions": 0 if arms.get("pq") is None else 1,
                "collapsed": False,
                "final_diversity_bits": 3.0,
                "final_vendi_score": 9.0,
                "student_rollouts": 1_000,
            }
        }
        per_seed.append({"seed": seed, "arms": results, "teachers": teachers})
        (out / f"seed-{seed}").mkdir(parents=True)
        record = {"step": 0, "mean_reward": 0.01, "moving_average": 0.01, "promoted_set": None, "diversity_bits": 3.0}
        (out / f"seed-{seed}" / "history-grounded.jsonl").write_text(json.dumps(record) + "\n")
    summary = {
        **summarise(per_seed, config),
        "per_seed": per_seed,
        "config": dataclasses.asdict(config),
        "wall_seconds": 100.0,
        "evaluation_budget": {"grpo_steps": 4, "prompts_per_step": 2, "group_size": 4, "student_seeds": 1},
    }
    (out / "summary.json").write_text(json.dumps(summary))


def test_soar_report_merges_runs_and_pairs_pq_with_hard_only_by_seed(tmp_path: Path) -> None:
    config = tiny_config(evaluation={"samples": 32, "pass_at": [1, 8, 32]})
    # seed 0 has no promotion; a positional pairing would set seed 1's PQ against seed 0's Hard-Only
    _fake_compare(
        tmp_path / "a",
        config,
        {
            0: {"hard-only": 0.0, "pq": None, "base-t": 0.2, "grounded-t": 0.3},
            1: {"hard-only": 0.1, "pq": 0.15, "base-t": 0.2, "grounded-t": 0.1},
        },
    )
    _fake_compare(tmp_path / "b", config, {2: {"hard-only": 0.05, "pq": 0.3, "base-t": 0.1, "grounded-t": 0.2}})
    result = cli.invoke(app, ["soar", "report", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "m")])
    assert result.exit_code == 0, result.output
    merged = json.loads((tmp_path / "m" / "summary.json").read_text())
    assert merged["seeds"] == [0, 1, 2]
    assert merged["arms"]["hard-only"]["pass@32"]["per_seed"] == [0.0, 0.1, 0.05]
    assert merged["seed_dirs"]["2"] == str(tmp_path / "b" / "seed-2")
    assert merged["teachers"]["grounded"]["promotions_per_seed"] == [0, 1, 1]
    report = (tmp_path / "m" / "report.md").read_text()
    assert "seed 0 no PQ vs 0.000, seed 1 0.150 vs 0.100, seed 2 0.300 vs 0.050" in report
    assert "at least 2x Hard-Only in 1 of 3 seeds" in report  # seed 1 is 1.5x, seed 0 has no PQ
    assert "Grounded-T pass@32 beat Base-T (the untrained teacher's questions) in 2 of 3 seeds" in report
    assert str(tmp_path / "b") in report
    for name in ("teacher_reward.png", "pass_at_k.png", "diversity.png"):
        assert (tmp_path / "m" / name).stat().st_size > 0


def test_soar_report_refuses_runs_of_other_configs_or_the_same_seed(tmp_path: Path) -> None:
    from autocurriculum.soar.experiment import merge_comparisons

    _fake_compare(tmp_path / "a", tiny_config(), {0: {"hard-only": 0.0}})
    _fake_compare(tmp_path / "b", tiny_config(outer={"questions_per_set": 5}), {1: {"hard-only": 0.0}})
    _fake_compare(tmp_path / "c", tiny_config(), {0: {"hard-only": 0.1}})
    with pytest.raises(InvalidArgumentError, match=r"b was run with another config .* \(differs in outer\)"):
        merge_comparisons([tmp_path / "a", tmp_path / "b"], tmp_path / "m")
    with pytest.raises(InvalidArgumentError, match=r"teacher seed 0 is in both .*a and .*c"):
        merge_comparisons([tmp_path / "a", tmp_path / "c"], tmp_path / "m")
    with pytest.raises(InvalidArgumentError, match=r"none.summary.json does not exist"):
        merge_comparisons([tmp_path / "none"], tmp_path / "m")
