import pytest
import torch

from autocurriculum.trainers import (
    CharTokenizer,
    TinyGPT,
    TinyGPTConfig,
    generate,
    greedy_complete,
    left_pad,
    load_model,
    position_ids_from_mask,
    save_model,
)

torch.set_num_threads(2)

TOK = CharTokenizer.from_texts(["0123456789+=ABC|"])
PROMPTS = ["A12+3=", "A1=", "B123+45=", "C7="]


def make_model(**kw) -> TinyGPT:
    cfg = dict(vocab_size=TOK.vocab_size, d_model=64, n_layers=2, n_heads=4, max_seq_len=32)
    cfg.update(kw)
    return TinyGPT(TinyGPTConfig(**cfg), seed=1).eval()


def full_forward_greedy(model: TinyGPT, prompts: list[str], steps: int) -> list[list[int]]:
    """Reference decoder: recompute the whole sequence every step, no cache."""
    out = []
    for prompt in prompts:
        ids = TOK.encode(prompt)
        new: list[int] = []
        for _ in range(steps):
            x = torch.tensor([ids + new])
            mask = torch.ones_like(x)
            logits, _ = model(x, position_ids_from_mask(mask), mask)
            nxt = int(logits[0, -1].argmax())
            new.append(nxt)
            if nxt == TOK.eos_id:
                break
        out.append(new)
    return out


def test_parameter_count_default_size():
    # rotary encoding has no position table; the learned table adds max_seq_len x d_model
    rope = TinyGPT(TinyGPTConfig(vocab_size=16, max_seq_len=48)).num_parameters()
    learned = TinyGPT(TinyGPTConfig(vocab_size=16, max_seq_len=48, position_encoding="learned")).num_parameters()
    assert 790_000 < learned < 810_000
    assert learned - rope == 48 * 128


def test_rotary_encoding_is_relative():
    """Shifting every position by a constant leaves rotary logits unchanged (but not learned ones)."""
    ids = torch.tensor([TOK.encode("A12+3=")])
    mask = torch.ones_like(ids)
    pos = position_ids_from_mask(mask)
    for encoding, invariant in (("rope", True), ("learned", False)):
        model = make_model(position_encoding=encoding)
        with torch.no_grad():
            a, _ = model(ids, pos, mask)
            b, _ = model(ids, pos + 5, mask)
        assert torch.allclose(a, b, atol=1e-4) is invariant


def test_seeded_init_is_reproducible_and_leaves_global_rng_alone():
    state = torch.random.get_rng_state()
    a, b = make_model(), make_model()
    assert torch.equal(state, torch.random.get_rng_state())
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)


@pytest.mark.parametrize("encoding", ["rope", "learned"])
def test_kv_cache_greedy_matches_full_forward(encoding: str):
    model = make_model(position_encoding=encoding)
    steps = 10
    gen = generate(model, TOK, PROMPTS, steps, greedy=True)
    reference = full_forward_greedy(model, PROMPTS, steps)
    for i, ref in enumerate(reference):
        n = int(gen.completion_lengths[i])
        assert gen.completion_ids[i, :n].tolist() == ref
        assert gen.texts[i] == TOK.decode(ref)
        assert gen.completion_mask[i, :n].all() and not gen.completion_mask[i, n:].any()


@pytest.mark.parametrize("encoding", ["rope", "learned"])
def test_cached_last_logits_match_full_forward(encoding: str):
    model = make_model(position_encoding=encoding)
    ids, mask = left_pad([TOK.encode(p) for p in PROMPTS])
    with torch.no_grad():
        _, cache = model(ids[:, :-2], position_ids_from_mask(mask[:, :-2]), mask[:, :-2], use_cache=True)
        for t in (ids.shape[1] - 2, ids.shape[1] - 1):
            step_logits, cache = model(
                ids[:, t : t + 1], position_ids_from_mask(mask[:, : t + 1])[:, -1:], mask[:, : t + 1], cache, True
            )
        full, _ = model(ids, position_ids_from_mask(mask), mask)
    torch.testing.assert_close(step_logits[:, -1], full[:, -1], atol=1e-5, rtol=0)
    # and each row equals the same prompt run alone, without padding
    for i, prompt in enumerate(PROMPTS):
        alone = torch.tensor([TOK.encode(prompt)])
        ones = torch.ones_like(alone)
        with torch.no_grad():
            single, _ = model(alone, position_ids_from_mask(ones), ones)
        torch.testing.assert_close(full[i, -1], single[0, -1], atol=1e-5, rtol=0)


@pytest.mark.parametrize("encoding", ["rope", "learned"])
def test_left_padding_invariance(encoding: str):
    model = make_model(position_encoding=encoding)
    batch = greedy_complete(model, TOK, PROMPTS, 8, batch_size=3)
    alone = [greedy_complete(model, TOK, [p], 8)[0] for p in PROMPTS]
    assert batch == alone
    # repeated prompts share one prompt forward pass; results must not change
    repeated = [p for p in PROMPTS for _ in range(3)]
    assert greedy_complete(model, TOK, repeated, 8) == [c for c in alone for _ in range(3)]


def test_sampling_is_reproducible_with_generator():
    model = make_model()
    a = generate(model, TOK, PROMPTS * 4, 8, generator=torch.Generator().manual_seed(3))
    b = generate(model, TOK, PROMPTS * 4, 8, generator=torch.Generator().manual_seed(3))
    assert a.texts == b.texts and torch.equal(a.completion_ids, b.completion_ids)
    assert torch.equal(a.logprobs, b.logprobs)


def test_length_errors():
    model = make_model(max_seq_len=8)
    x = torch.ones((1, 9), dtype=torch.long)
    with pytest.raises(ValueError, match="max_seq_len"):
        model(x, position_ids_from_mask(x), x)
    with pytest.raises(ValueError, match="max_seq_len"):
        generate(model, TOK, ["A12+3="], 5, greedy=True)


def test_checkpoint_round_trip(tmp_path):
    model = make_model()
    path = save_model(tmp_path / "ckpt" / "sft.pt", model, TOK, metadata={"sft_steps": 3})
    loaded = load_model(path)
    assert loaded.tokenizer == TOK and loaded.config == model.config and loaded.metadata == {"sft_steps": 3}
    ids, mask = left_pad([TOK.encode(p) for p in PROMPTS])
    with torch.no_grad():
        a, _ = model(ids, position_ids_from_mask(mask), mask)
        b, _ = loaded.model(ids, position_ids_from_mask(mask), mask)
    assert torch.equal(a, b)
