"""End-to-end runs of every procedure on small instances, cost counters and bad teacher input."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from autocurriculum.autotune import (
    AutoTuneConfig,
    CallableTeacher,
    CostCounters,
    CounterexampleConfig,
    ProgrammaticTeacher,
    ReferenceModel,
    RLFineTuneConfig,
    TabularRLLearner,
    TabularSFTLearner,
    UniformSFTConfig,
    autotune_rl,
    autotune_sft,
    counterexample_sft,
    make_problem,
    reference_supervision,
    rl_finetune,
    uniform_sft,
)
from autocurriculum.tasks import make_task_family

SMALL = {"clusters": 16, "zipf_exponent": 1.1, "steps": 4}


def family(**extra):
    return make_task_family("clustered_op_chain", {**SMALL, **extra})


def setup(fam=None):
    fam = fam or family()
    return make_problem(fam, 4), make_problem(fam, 4).test_prompts(3000)


def test_uniform_sft_counts_and_learns():
    problem, test = setup()
    r = uniform_sft(problem, TabularSFTLearner(), ProgrammaticTeacher(), UniformSFTConfig(max_demos=400), test)
    c = r.costs
    assert c["teacher_demonstrations"] == c["teacher_calls"] == c["prompts_drawn"] == 400
    assert c["learner_training_steps"] == 400 and c["rollouts"] == 0
    accs = [p["accuracy"] for p in r.curve]
    assert accs[-1] > 0.97 and accs[-1] > accs[0]


def test_counterexample_uses_far_fewer_demonstrations_than_uniform():
    problem, test = setup()
    r = counterexample_sft(problem, TabularSFTLearner(), ProgrammaticTeacher(), CounterexampleConfig(eps=0.02), test)
    assert r.reached_target and r.extra["stopped_by_rule"]
    base, _ = setup()
    uni = uniform_sft(base, TabularSFTLearner(), ProgrammaticTeacher(), UniformSFTConfig(max_demos=3000), test)
    hit = uni.first_reaching(r.accuracy)
    assert hit is not None and hit["teacher_demonstrations"] >= 3 * r.costs["teacher_demonstrations"]
    # demonstrations are bought only for verifier failures; every check is a learner rollout
    assert r.costs["learner_rollouts"] == r.costs["prompts_drawn"]
    assert r.costs["verifier_calls"] == r.costs["prompts_drawn"] + r.costs["teacher_demonstrations"]


def test_faithful_autotune_sft_reaches_target_and_reports_phases():
    problem, test = setup()
    r = autotune_sft(problem, TabularSFTLearner(), ProgrammaticTeacher(), AutoTuneConfig(eps=0.05, seed=1), test)
    assert r.extra["k"] == 13 and len(r.phases) == 13
    assert r.accuracy >= 0.95
    assert r.phases[0]["acceptance_rate"] == 1.0  # empty ensemble: everything accepted
    assert all(p["acceptance_rate"] < 1.0 for p in r.phases[1:])  # later phases filter
    assert sum(p["demonstrations"] for p in r.phases) == r.costs["teacher_demonstrations"]
    assert r.costs["learner_rollouts"] > 0 and r.costs["verifier_calls"] > r.costs["prompts_drawn"]
    # Phi_k = P[rank <= k/2] bounds the plurality vote's error (a majority of right members always wins)
    assert 1 - r.accuracy <= r.extra["potential"][-1] + 1e-9 <= 1


def test_reuse_supervision_warm_starts_learners_and_buys_fewer_demonstrations():
    fresh_problem, test = setup()
    fresh = autotune_sft(
        fresh_problem, TabularSFTLearner(), ProgrammaticTeacher(), AutoTuneConfig(eps=0.05, seed=1), test
    )
    problem, _ = setup()
    config = AutoTuneConfig(eps=0.05, seed=1, reuse_supervision=True)
    r = autotune_sft(problem, TabularSFTLearner(), ProgrammaticTeacher(), config, test)
    assert r.accuracy >= 0.95
    assert r.costs["teacher_demonstrations"] < fresh.costs["teacher_demonstrations"] / 2
    # exact ERM only ever drops ops the data contradict, so a warm-started member knows all its elders knew
    accuracy = r.extra["member_accuracy"]
    assert all(later >= earlier for earlier, later in pairwise(accuracy))
    # a phase whose warm start already meets the weak error buys nothing
    free = [p for p in r.phases[1:] if p["demonstrations"] == 0 and not p["aborted"]]
    assert free and all(p["weak_target_met"] and p["validation_error"] <= 0.25 for p in free)
    # reused demonstrations are refit (training steps), never re-bought
    assert r.costs["learner_training_steps"] > r.costs["teacher_demonstrations"]


def test_counterexample_accuracy_curve_for_oracle_stopping():
    problem, test = setup()
    config = CounterexampleConfig(eps=0.02, batch=1, eval_every=1)
    r = counterexample_sft(problem, TabularSFTLearner(), ProgrammaticTeacher(), config, test)
    updates = [p["updates"] for p in r.curve]
    assert updates[0] == 0 and updates[-2] == r.extra["updates"] == updates[-1]
    assert updates[:-1] == list(range(len(updates) - 1))  # one evaluation per update, plus the final one
    assert r.curve[-1]["accuracy"] == r.accuracy
    hit = r.first_reaching(0.9)
    assert hit is not None and hit["teacher_demonstrations"] <= r.costs["teacher_demonstrations"]
    assert hit["accuracy"] >= 0.9


def test_aborted_phases_are_reported_and_still_add_a_member():
    problem, test = setup()
    # a tiny prompt budget per phase forces aborts once the ensemble is mostly right
    config = AutoTuneConfig(eps=0.05, seed=0, max_phase_prompts=600, draw_batch=100)
    r = autotune_sft(problem, TabularSFTLearner(), ProgrammaticTeacher(), config, test)
    assert r.extra["aborted_phases"] >= 1
    assert len(r.extra["member_accuracy"]) == r.extra["k"]
    assert all(p["prompts_drawn"] <= 600 for p in r.phases if p["aborted"])


def test_phase_acceptance_follows_pivotal_weights():
    # k=3, phase 1: alpha(r) = P[Bin(1, 3/4) = 1 - r], so prompts member 0 gets wrong (rank 0) weigh 3x more
    from autocurriculum.autotune import pivotal_weights

    w = pivotal_weights(1, 3)
    assert w.tolist() == pytest.approx([0.75, 0.25])
    problem, test = setup()
    r = autotune_sft(problem, TabularSFTLearner(), ProgrammaticTeacher(), AutoTuneConfig(k=3, eps=0.2), test)
    member0_acc = r.extra["member_accuracy"][0]
    expected = (1 - member0_acc) * 1.0 + member0_acc * (w[1] / w.max())
    assert r.phases[1]["acceptance_rate"] == pytest.approx(expected, abs=0.08)


def test_bad_teacher_skips_and_counts():
    problem, test = setup()
    calls = {"n": 0}

    def flaky(prompt: str) -> str:
        calls["n"] += 1
        if calls["n"] % 3 == 0:
            raise RuntimeError("teacher down")
        if calls["n"] % 3 == 1:
            return "not a demonstration"
        return problem.family.generate(4, int(prompt_index[prompt])).demonstration

    prompt_index = {problem.family.generate(4, i).prompt: i for i in range(200)}
    r = uniform_sft(
        problem, TabularSFTLearner(), CallableTeacher(flaky), UniformSFTConfig(max_demos=30, start=30), test
    )
    c = r.costs
    assert c["teacher_demonstrations"] == 30
    assert c["teacher_failures"] == c["teacher_calls"] - 30 > 0
    wrong = CallableTeacher(lambda p: "0000|0")  # well-formed but wrong: caught by the verifier
    rows, _ = wrong.demonstrate(problem, problem.draw(20))
    assert problem.costs.teacher_failures >= c["teacher_failures"] + (20 - len(rows)) and len(rows) < 20


def test_cost_counter_arithmetic():
    a = CostCounters(prompts_drawn=5, reference_rollouts=7, learner_rollouts=3)
    b = a.copy()
    b.learner_rollouts += 2
    assert (b - a).learner_rollouts == 2 and a.rollouts == 10 and a.as_dict()["rollouts"] == 10


def test_reference_model_coverage_and_supervision():
    problem, _ = setup()
    ref = ReferenceModel(problem, 16, seed=0)
    assert ref.correct_chain_probability == pytest.approx(1 / 16)
    prompts = problem.draw(50)
    chains = ref.sample(prompts, 400)
    truth = problem.truth(prompts)
    hit_rate = (chains == truth[:, None, :]).all(axis=2).mean()
    assert hit_rate >= 1 / 16 - 0.01  # coincident ops only add probability
    logp = ref.log_prob(prompts, truth[:, None, :])
    assert np.all(logp >= -np.log(16) - 1e-9)
    before = problem.costs.copy()
    _, accepted = reference_supervision(problem, ref, prompts, 10)
    assert (problem.costs - before).reference_rollouts == 500 and (problem.costs - before).verifier_calls == 500
    assert len(accepted) == 50


def test_rl_finetune_and_autotune_rl_learn_and_count_rollouts():
    fam = family()
    problem, test = setup(fam)
    base = rl_finetune(
        problem, ReferenceModel(problem, 16, 0), TabularRLLearner(), RLFineTuneConfig(max_prompts=300), test
    )
    m = base.extra["rollouts_per_prompt"]
    assert base.costs["reference_rollouts"] == 300 * m and base.costs["learner_rollouts"] == 0
    assert base.accuracy > 0.95
    problem2, _ = setup(fam)
    auto = autotune_rl(problem2, ReferenceModel(problem2, 16, 0), TabularRLLearner(), AutoTuneConfig(eps=0.05), test)
    assert auto.accuracy >= 0.95
    assert auto.costs["rollouts"] == auto.costs["reference_rollouts"] + auto.costs["learner_rollouts"]
    assert auto.costs["learner_rollouts"] > 0 and auto.costs["teacher_calls"] == 0
    # reference rollouts only on accepted prompts: fewer supervised prompts than drawn
    supervised = sum(p["supervised"] for p in auto.phases)
    assert auto.costs["reference_rollouts"] == supervised * m < auto.costs["prompts_drawn"] * m


def test_import_does_not_pull_torch():
    import subprocess
    import sys

    code = "import sys, autocurriculum.autotune; sys.exit(1 if 'torch' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_counterexample_stopping_rule_spends_delta_over_all_model_versions():
    import math

    config = CounterexampleConfig(eps=0.01, delta=0.05)
    assert config.passes_needed(0) == math.ceil(math.log(2 / 0.05) / 0.01)
    needed = [config.passes_needed(u) for u in range(50)]
    assert needed == sorted(needed) and needed[-1] > needed[0]
    # the per-version confidences delta / ((u+1)(u+2)) telescope to delta
    assert sum(0.05 / ((u + 1) * (u + 2)) for u in range(100_000)) == pytest.approx(0.05, rel=1e-4)


def test_text_reference_model_has_exact_coverage_and_feeds_rlfinetune_only_the_real_chain():
    import math

    from autocurriculum.autotune import TextReferenceModel

    problem = make_problem(make_task_family("op_chain"), 2, text=True)
    prompts = problem.draw(40)
    reference = TextReferenceModel(problem, coverage=4, seed=0)
    samples = reference.sample(prompts, 50)
    assert problem.costs.reference_rollouts == 40 * 50
    chains = [t.demonstration for t in problem.tasks(prompts)]
    hits = sum(text == chain for row, chain in zip(samples, chains, strict=True) for text in row)
    assert abs(hits / 2000 - 0.25) < 0.04  # P[pi_ref = the real chain] = 1/C
    logp = reference.log_prob(prompts, samples)
    symbols = len(reference.symbols)
    for row, chain, values in zip(samples, chains, logp, strict=True):
        for text, value in zip(row, values, strict=True):
            expected = math.log(0.25) if text == chain else math.log(0.75 / (len(chain) * (symbols - 1)))
            assert value == pytest.approx(expected)
    # RLFineTune's D~: verified and pi_ref >= 1/C, so corruptions that keep the answer are dropped
    problem.costs = CostCounters()
    rows, targets = reference_supervision(problem, reference, prompts, 12)
    assert problem.costs.verifier_calls == problem.costs.reference_rollouts == 40 * 12
    assert len(rows) == len(targets) > 0 and all(targets[i] == chains[r] for i, r in enumerate(rows))


def test_text_reference_model_rejects_bad_coverage():
    from autocurriculum.autotune import TextReferenceModel
    from autocurriculum.core import ConfigError

    problem = make_problem(make_task_family("op_chain"), 2, text=True)
    with pytest.raises(ConfigError, match="coverage"):
        TextReferenceModel(problem, coverage=0.5)
