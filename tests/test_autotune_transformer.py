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


def test_reused_supervision_warm_starts_a_transformer_member_with_one_fit():
    from autocurriculum.autotune.boosting import run_boosting

    p = problem()
    fits_by_member: list[list[int]] = []  # sizes of each fit call, per member

    class CountingLearner(TransformerLearner):
        def new(self, problem, seed):
            hypothesis = super().new(problem, seed)
            original, sizes = hypothesis.fit, []
            fits_by_member.append(sizes)

            def fit(prompts, supervision):
                sizes.append(len(prompts))
                return original(prompts, supervision)

            hypothesis.fit = fit
            return hypothesis

    config = AutoTuneConfig(
        k=2, eps=0.3, validation_size=8, chunk=8, max_phase_train=16, draw_batch=32, reuse_supervision=True
    )
    teacher = ProgrammaticTeacher()
    outcome = run_boosting(p, CountingLearner(TINY), lambda prompts: teacher.demonstrate(p, prompts), config)
    first, second = fits_by_member
    assert sum(first) == outcome.phases[0].demonstrations > 0
    # member 1 starts with one fit on everything member 0 was shown, then buys only its own phase's prompts
    assert second[0] == sum(first)
    assert sum(second[1:]) == outcome.phases[1].demonstrations
