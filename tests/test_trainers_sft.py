import random

import torch

from autocurriculum.trainers import CharTokenizer, SFTConfig, SFTTrainer, TinyGPT, TinyGPTConfig, greedy_complete

torch.set_num_threads(2)


def make_pairs(n: int = 20) -> list[tuple[str, str]]:
    rng = random.Random(0)
    pairs = []
    for _ in range(n):
        a, b = rng.randint(0, 99), rng.randint(0, 99)
        pairs.append((f"A{a:02d}+{b:02d}=", str(a + b)[::-1]))
    return pairs


def make(seed: int = 0) -> tuple[SFTTrainer, CharTokenizer]:
    tok = CharTokenizer.from_texts(["0123456789+=A"])
    model = TinyGPT(TinyGPTConfig(vocab_size=tok.vocab_size, d_model=64, n_layers=2, n_heads=4, max_seq_len=16))
    return SFTTrainer(model, tok, SFTConfig(learning_rate=3e-3, batch_size=32), seed=seed), tok


def test_sft_memorises_small_mapping():
    pairs = make_pairs()
    trainer, tok = make()
    with torch.no_grad():
        initial = float(trainer.loss(pairs))
    result = trainer.train(pairs, steps=250)
    assert result["steps"] == 250
    with torch.no_grad():
        final = float(trainer.loss(pairs))
    assert final < 0.1 < initial, (initial, final)
    completions = greedy_complete(trainer.model, tok, [p for p, _ in pairs], max_new_tokens=4)
    assert completions == [c for _, c in pairs]


def test_loss_is_mean_nll_of_completion_and_eos_only():
    trainer, tok = make()
    batch = [("A12+34=", "64"), ("A1+2=", "3")]
    expected, count = 0.0, 0
    for prompt, completion in batch:
        ids = tok.encode(prompt) + tok.encode(completion) + [tok.eos_id]
        x = torch.tensor([ids[:-1]])
        ones = torch.ones_like(x)
        with torch.no_grad():
            logits, _ = trainer.model(x, torch.arange(x.shape[1])[None], ones)
        logp = logits[0].log_softmax(-1)
        for t in range(len(tok.encode(prompt)) - 1, len(ids) - 1):  # targets: completion chars and eos
            expected -= float(logp[t, ids[t + 1]])
            count += 1
    with torch.no_grad():
        got = float(trainer.loss(batch))
    assert count == 5
    assert abs(got - expected / count) < 1e-5


def test_sft_is_reproducible():
    pairs = make_pairs()
    runs = []
    for _ in range(2):
        trainer, _ = make(seed=5)
        runs.append(trainer.train(pairs, steps=5)["loss"])
    assert runs[0] == runs[1]
