import copy
import math

import numpy as np
import pytest
import torch

from autocurriculum.core.errors import ConfigError
from autocurriculum.trainers import (
    CharTokenizer,
    GRPOConfig,
    GRPOTrainer,
    TinyGPT,
    TinyGPTConfig,
    completion_logprobs,
    group_advantages,
    left_pad,
    policy_loss,
    position_ids_from_mask,
)

torch.set_num_threads(2)

TOK = CharTokenizer.from_texts(["0123456789+=AB"])
PROMPTS = ["A1+2=", "B34+5="]


def make_model(seed: int = 0) -> TinyGPT:
    cfg = TinyGPTConfig(vocab_size=TOK.vocab_size, d_model=32, n_layers=1, n_heads=2, max_seq_len=24)
    return TinyGPT(cfg, seed=seed)


def make_trainer(model: TinyGPT | None = None, seed: int = 0, **kw) -> GRPOTrainer:
    kw.setdefault("max_new_tokens", 4)
    return GRPOTrainer(model or make_model(), TOK, GRPOConfig(**kw), seed=seed)


def first_token_prob(model: TinyGPT, prompt: str, char: str) -> float:
    ids = torch.tensor([TOK.encode(prompt)])
    mask = torch.ones_like(ids)
    with torch.no_grad():
        logits, _ = model(ids, position_ids_from_mask(mask), mask)
    return float(logits[0, -1].softmax(-1)[TOK.encode(char)[0]])


def test_group_advantages():
    adv = group_advantages(np.array([1.0, 0.0, 0.0, 1.0]), eps=1e-4)
    np.testing.assert_allclose(adv, [1, -1, -1, 1], atol=1e-3)
    assert np.all(group_advantages(np.full(8, 0.7)) == 0)


def test_config_validation():
    with pytest.raises(ConfigError, match="group_size"):
        GRPOConfig(group_size=1).validate()
    with pytest.raises(ConfigError, match="clip_epsilon"):
        GRPOConfig(clip_epsilon=0).validate()


def test_rollout_shapes_and_token_counts():
    trainer = make_trainer(group_size=4)
    groups = trainer.rollout(PROMPTS)
    assert [g.prompt for g in groups] == PROMPTS
    for g, prompt in zip(groups, PROMPTS, strict=True):
        assert g.prompt_ids.tolist() == TOK.encode(prompt)
        assert len(g.completions) == g.group_size == 4
        assert g.completion_ids.shape == g.completion_mask.shape == g.old_logprobs.shape
        assert g.completion_tokens == int(g.completion_mask.sum()) == sum(g.completion_lengths)
        assert g.prompt_tokens == 4 * len(prompt)
        assert [TOK.decode(row.tolist()) for row in g.completion_ids] == g.completions


def test_old_logprobs_match_rescoring_across_rollout_calls():
    # Groups from separate rollout calls (different padding) are re-padded; scores must agree.
    trainer = make_trainer(group_size=4, temperature=0.7)
    groups = trainer.rollout(["A1="]) + trainer.rollout(["B34+56="])
    prompt_ids, prompt_mask, completion_ids, completion_mask, old = trainer.collate(groups)
    with torch.no_grad():
        new = completion_logprobs(trainer.model, prompt_ids, prompt_mask, completion_ids, completion_mask, 0.7)
    torch.testing.assert_close(new, old, atol=1e-5, rtol=0)


def test_grpo_raises_probability_of_rewarded_first_char():
    trainer = make_trainer(group_size=16, learning_rate=3e-3)
    target = "7"
    before = first_token_prob(trainer.model, PROMPTS[0], target)
    for _ in range(8):
        groups = trainer.rollout(PROMPTS)
        rewards = [np.array([float(c.startswith(target)) for c in g.completions]) for g in groups]
        metrics = trainer.train_step(groups, rewards)
        assert all(math.isfinite(v) for v in metrics.values())
    after = first_token_prob(trainer.model, PROMPTS[0], target)
    assert after > before * 1.5, (before, after)


def test_equal_rewards_give_zero_advantage_and_no_update():
    trainer = make_trainer(group_size=4, learning_rate=1e-2)
    groups = trainer.rollout(PROMPTS[:1])
    assert np.all(trainer.advantages(np.ones(4)) == 0)
    before = copy.deepcopy(trainer.model.state_dict())
    metrics = trainer.train_step(groups, [np.ones(4)])
    assert metrics["grad_norm"] == 0.0 and metrics["loss"] == 0.0 and metrics["zero_std_fraction"] == 1.0
    for name, value in trainer.model.state_dict().items():
        assert torch.equal(value, before[name]), name


def test_zero_variance_group_counts_in_token_denominator():
    base = make_trainer(group_size=4, grad_clip=0.0)
    informative, flat = base.rollout(PROMPTS)
    r_inf, r_flat = np.array([1.0, 0.0, 0.0, 0.0]), np.zeros(4)
    a = make_trainer(make_model(), group_size=4, grad_clip=0.0)
    b = make_trainer(make_model(), group_size=4, grad_clip=0.0)
    ma = a.train_step([informative], [r_inf])
    mb = b.train_step([informative, flat], [r_inf, r_flat])
    assert mb["tokens"] == ma["tokens"] + flat.completion_tokens
    scale = ma["tokens"] / mb["tokens"]  # same gradient, diluted by the flat group's tokens
    for pa, pb in zip(a.model.parameters(), b.model.parameters(), strict=True):
        torch.testing.assert_close(pb.grad, pa.grad * scale, atol=1e-6, rtol=1e-4)


def test_clip_fraction_with_reused_batch():
    trainer = make_trainer(group_size=8, learning_rate=5e-2, updates_per_batch=2)
    groups = trainer.rollout(PROMPTS)
    rewards = [np.arange(8, dtype=float) for _ in groups]
    metrics = trainer.train_step(groups, rewards)
    assert math.isfinite(metrics["clip_fraction"]) and 0.0 <= metrics["clip_fraction"] <= 1.0
    assert metrics["clip_fraction"] > 0  # the second pass sees a moved policy at this learning rate


def test_policy_loss_on_policy_is_reinforce_and_clipping_binds_outside_the_range():
    """The one loss GRPO and the SOAR teacher share: unclipped on-policy it is -A grad log pi (token mean over the
    mask), and with a ratio outside 1 +- epsilon the clipped term takes over and is counted."""
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 5, generator=generator)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], dtype=torch.float32)
    advantages = torch.tensor([1.5, -0.5, 2.0])

    reinforce = logits.clone().requires_grad_()
    ((-advantages[:, None] * reinforce * mask).sum() / mask.sum()).backward()
    on_policy = logits.clone().requires_grad_()
    result = policy_loss(on_policy, on_policy.detach(), advantages, mask, clip_epsilon=None)
    result.loss.backward()
    assert torch.equal(on_policy.grad, reinforce.grad)
    assert result.clip_fraction == 0.0 and float(result.kl) == 0.0

    # ratio e^0.5 > 1.2 on every token: positive advantages are clipped (no gradient), negative ones are not
    moved = logits.clone().requires_grad_()
    clipped = policy_loss(moved, logits - 0.5, advantages, mask, clip_epsilon=0.2)
    clipped.loss.backward()
    positive = (advantages > 0)[:, None].float() * mask
    assert clipped.clip_fraction == pytest.approx(float(positive.sum() / mask.sum()))
    assert torch.all(moved.grad[advantages > 0] == 0) and torch.all(moved.grad[1, :] != 0)


def test_kl_penalty_to_reference():
    trainer = make_trainer(group_size=4, learning_rate=1e-2, kl_coef=0.1)
    rewards = [np.array([1.0, 0.0, 0.0, 1.0])] * 2
    first = trainer.train_step(trainer.rollout(PROMPTS), rewards)
    assert first["kl"] == pytest.approx(0.0, abs=1e-6)
    second = trainer.train_step(trainer.rollout(PROMPTS), rewards)
    assert second["kl"] > 0 and math.isfinite(second["kl"])


def test_same_seed_same_rollouts_and_updates():
    results = []
    for _ in range(2):
        trainer = make_trainer(group_size=4, learning_rate=1e-3, seed=7)
        groups = trainer.rollout(PROMPTS)
        rewards = [np.array([float(len(c) % 2) for c in g.completions]) for g in groups]
        trainer.train_step(groups, rewards)
        results.append((groups, [p.detach().clone() for p in trainer.model.parameters()], trainer.rollout(PROMPTS)))
    (g1, p1, n1), (g2, p2, n2) = results
    for a, b in zip(g1 + n1, g2 + n2, strict=True):
        assert a.completions == b.completions
        assert torch.equal(a.completion_ids, b.completion_ids) and torch.equal(a.old_logprobs, b.old_logprobs)
    for a, b in zip(p1, p2, strict=True):
        assert torch.equal(a, b)


def test_bad_rewards_name_the_group():
    trainer = make_trainer(group_size=4)
    groups = trainer.rollout(PROMPTS)
    with pytest.raises(ValueError, match="group 1"):
        trainer.train_step(groups, [np.zeros(4), np.array([0.0, np.nan, 1.0, 0.0])])
    with pytest.raises(ValueError, match="group 0"):
        trainer.train_step(groups, [np.zeros(3), np.zeros(4)])
    with pytest.raises(ValueError, match="2 groups"):
        trainer.train_step(groups, [np.zeros(4)])


def test_left_pad_helper():
    ids, mask = left_pad([[5, 6], [7]])
    assert ids.tolist() == [[5, 6], [0, 7]] and mask.tolist() == [[1, 1], [0, 1]]


def test_ragged_groups_roll_out_train_and_count_singletons():
    trainer = make_trainer(group_size=4)
    groups = trainer.rollout(["A1+2=", "B34+5=", "A1+2="], [1, 5, 2])
    assert [g.group_size for g in groups] == [1, 5, 2]
    assert groups[1].prompt_tokens == 5 * len("B34+5=")
    rewards = [np.array([1.0]), np.array([1, 0, 0, 1, 0.0]), np.array([0.0, 1.0])]
    metrics = trainer.train_step(groups, rewards)
    assert metrics["singleton_groups"] == 1.0 and math.isfinite(metrics["loss"])
    with pytest.raises(ValueError, match="one group size >= 1 per prompt"):
        trainer.rollout(PROMPTS, [4, 0])


def test_a_screen_and_its_continuation_join_into_one_group():
    trainer = make_trainer(group_size=4)
    (screen,) = trainer.rollout(["A1+2="], [2])
    (continuation,) = trainer.rollout(["A1+2="], [3])
    joined = screen.concatenate(continuation)
    assert joined.group_size == 5 and joined.completions == screen.completions + continuation.completions
    assert joined.completion_tokens == screen.completion_tokens + continuation.completion_tokens
    assert joined.completion_ids.shape[0] == joined.old_logprobs.shape[0] == 5
    with pytest.raises(ValueError, match="different prompts"):
        screen.concatenate(trainer.rollout(["B34+5="], [1])[0])
