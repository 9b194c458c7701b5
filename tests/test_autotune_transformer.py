"""The testbed transformer as AutoTune learner (tiny size) and a local model as teacher."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from autocurriculum.autotune import (  # noqa: E402
    AutoTuneConfig,
    CounterexampleConfig,
    ProgrammaticTeacher,
    TinyGPTTeacher,
    autotune_sft,
    counterexample_sft,
    make_problem,
)
from autocurriculum.autotune.learners.transformer import TransformerLearner, TransformerLearnerConfig  # noqa: E402
from autocurriculum.tasks import make_task_family  # noqa: E402

TINY = TransformerLearnerConfig(d_model=32, n_layers=1, n_heads=2, steps_per_fit=10, batch_size=16)


@pytest.fixture(autouse=True)
def one_thread():
    # the tiny model is latency-bound; extra threads only fight over the shared cores
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def problem():
    fam = make_task_family("clustered_op_chain", {"clusters": 4, "steps": 2})
    return make_problem(fam, 2, text=True)


def test_transformer_counterexample_and_faithful_run_and_count_steps():
    p = problem()
    test = p.test_prompts(64)
    r = counterexample_sft(
        p,
        TransformerLearner(TINY),
        ProgrammaticTeacher(),
        CounterexampleConfig(eps=0.3, batch=32, max_prompts=96),
        test,
    )
    assert r.costs["learner_training_steps"] == 10 * r.extra["updates"] > 0
    assert 0.0 <= r.accuracy <= 1.0
    p = problem()
    config = AutoTuneConfig(k=2, eps=0.3, validation_size=8, chunk=8, max_phase_train=16, draw_batch=32)
    r = autotune_sft(p, TransformerLearner(TINY), ProgrammaticTeacher(), config, test)
    assert len(r.phases) == 2 and r.costs["teacher_demonstrations"] > 0
    assert all(p_["weak_target_met"] or p_["supervised"] >= 16 or p_["aborted"] for p_ in r.phases)


def test_tinygpt_teacher_failures_are_counted_not_raised():
    from autocurriculum.autotune import uniform_sft
    from autocurriculum.autotune.sft import UniformSFTConfig

    p = problem()
    hyp = TransformerLearner(TINY).new(p, 0)  # untrained: emits garbage, which must be skipped
    teacher = TinyGPTTeacher(hyp.model, hyp.tokenizer, hyp.max_new_tokens)
    r = uniform_sft(p, TransformerLearner(TINY), teacher, UniformSFTConfig(max_demos=2, start=2), p.test_prompts(8))
    assert (
        r.costs["teacher_calls"] >= 2
        and r.costs["teacher_failures"] == r.costs["teacher_calls"] - r.costs["teacher_demonstrations"]
    )


def test_reused_supervision_continues_a_transformer_from_the_previous_member():
    from autocurriculum.autotune.boosting import run_boosting

    p = problem()
    config = AutoTuneConfig(
        k=2, eps=0.3, validation_size=8, chunk=8, max_phase_train=16, draw_batch=32, reuse_supervision=True
    )
    teacher = ProgrammaticTeacher()
    outcome = run_boosting(p, TransformerLearner(TINY), lambda prompts: teacher.demonstrate(p, prompts), config)
    first, second = outcome.members
    assert len(first.examples) == outcome.phases[0].demonstrations > 0
    # member 1 starts from member 0's demonstrations and weights, then adds only its own phase's
    assert second.examples[: len(first.examples)] == first.examples
    assert len(second.examples) == len(first.examples) + outcome.phases[1].demonstrations
    assert second.model is not first.model
    same = all(torch.equal(a, b) for a, b in zip(first.model.parameters(), second.model.parameters(), strict=True))
    assert same == (outcome.phases[1].demonstrations == 0)  # trained further only if it bought something


def test_warm_copy_is_independent_of_the_original():
    p = problem()
    hyp = TransformerLearner(TINY).new(p, 0)
    twin = hyp.warm_copy(1)
    assert all(torch.equal(a, b) for a, b in zip(hyp.model.parameters(), twin.model.parameters(), strict=True))
    batch = p.draw(8)
    rows, supervision = ProgrammaticTeacher().demonstrate(p, batch)
    twin.fit(batch.take(rows), supervision)
    assert hyp.examples == [] and len(twin.examples) == len(rows)
    assert not all(torch.equal(a, b) for a, b in zip(hyp.model.parameters(), twin.model.parameters(), strict=True))


def test_rl_on_a_text_family_with_the_transformer_learner():
    from autocurriculum.autotune import RLFineTuneConfig, TextReferenceModel, autotune_rl, rl_finetune

    fam = make_task_family("op_chain")
    p = make_problem(fam, 1, text=True)
    test = p.test_prompts(32)
    config = RLFineTuneConfig(max_prompts=24, start=8, miss_probability=0.05)
    r = rl_finetune(p, TextReferenceModel(p, 4, 0), TransformerLearner(TINY), config, test)
    assert r.costs["reference_rollouts"] == 24 * r.extra["rollouts_per_prompt"] and r.costs["learner_rollouts"] == 0
    assert r.costs["learner_training_steps"] > 0
    p = make_problem(fam, 1, text=True)
    config = AutoTuneConfig(k=2, eps=0.3, validation_size=8, chunk=8, max_phase_train=16, draw_batch=32)
    r = autotune_rl(p, TextReferenceModel(p, 4, 0), TransformerLearner(TINY), config, test, miss_probability=0.05)
    assert len(r.phases) == 2 and r.costs["reference_rollouts"] > 0 and r.costs["learner_rollouts"] > 0
