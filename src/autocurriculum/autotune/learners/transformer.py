"""The testbed transformer (``autocurriculum.trainers.TinyGPT``) as an AutoTune learner; torch is imported lazily.

Works on any ``TextProblem``. Realizability no longer holds: a fit is a fixed number of AdamW steps on
the demonstrations seen so far (continued training), so a weak learner may miss its target error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from autocurriculum.autotune.problem import Problem, Prompts, TextProblem
from autocurriculum.core.config import option, require
from autocurriculum.core.errors import InvalidTypeError


@dataclass
class TransformerLearnerConfig:
    d_model: int = option(64, "Width of the tiny GPT.")
    n_layers: int = option(2, "Transformer blocks.")
    n_heads: int = option(4, "Attention heads (must divide d_model).")
    steps_per_fit: int = option(200, "AdamW steps each time new demonstrations arrive.")
    batch_size: int = option(64, "Demonstrations per AdamW step (drawn with replacement).")
    learning_rate: float = option(3e-3, "AdamW learning rate.")

    def validate(self) -> None:
        require(self.d_model > 0, "d_model", f"must be > 0, got {self.d_model}")
        require(self.n_layers > 0, "n_layers", f"must be > 0, got {self.n_layers}")
        require(self.steps_per_fit >= 1, "steps_per_fit", f"must be >= 1, got {self.steps_per_fit}")
        require(self.batch_size >= 1, "batch_size", f"must be >= 1, got {self.batch_size}")
        require(self.learning_rate > 0, "learning_rate", f"must be > 0, got {self.learning_rate}")


class TransformerHypothesis:
    deterministic = True  # greedy decoding; ``sample`` draws at temperature 1

    def __init__(self, problem: TextProblem, config: TransformerLearnerConfig, seed: int):
        import torch

        from autocurriculum.trainers import CharTokenizer, SFTConfig, SFTTrainer, TinyGPT, TinyGPTConfig

        self.problem = problem
        self.config = config
        family = problem.family
        self.tokenizer = CharTokenizer.from_texts(family.alphabet)
        self.max_new_tokens = family.max_demonstration_length + 1
        model_config = TinyGPTConfig(
            vocab_size=self.tokenizer.vocab_size,
            d_model=config.d_model,
            n_layers=config.n_layers,
            n_heads=config.n_heads,
            max_seq_len=family.prompt_length + self.max_new_tokens,
        )
        self.model = TinyGPT(model_config, seed=seed)
        self.trainer = SFTTrainer(
            self.model,
            self.tokenizer,
            SFTConfig(learning_rate=config.learning_rate, batch_size=config.batch_size),
            seed,
        )
        self.examples: list[tuple[str, str]] = []
        self.generator = torch.Generator().manual_seed(seed)

    def warm_copy(self, seed: int) -> TransformerHypothesis:
        """A new member that starts from this one's weights and demonstrations (fresh optimizer state).

        AutoTune's ``reuse_supervision`` uses it: an SGD learner refit from scratch on the union of earlier
        demonstrations would, under a fixed step budget, be weaker than the member it replaces.
        """
        import copy

        import torch

        from autocurriculum.trainers import SFTTrainer

        twin = object.__new__(TransformerHypothesis)
        twin.problem, twin.config, twin.tokenizer = self.problem, self.config, self.tokenizer
        twin.max_new_tokens = self.max_new_tokens
        twin.model = copy.deepcopy(self.model)
        twin.trainer = SFTTrainer(twin.model, self.tokenizer, self.trainer.config, seed)
        twin.examples = list(self.examples)
        twin.generator = torch.Generator().manual_seed(seed)
        return twin

    def fit(self, prompts: Prompts, supervision: list[str]) -> int:
        tasks = self.problem.tasks(prompts)
        self.examples.extend((t.prompt, demo) for t, demo in zip(tasks, supervision, strict=True))
        if not self.examples:
            return 0
        self.trainer.train(self.examples, steps=self.config.steps_per_fit)
        return self.config.steps_per_fit

    def predict(self, prompts: Prompts) -> list[str]:
        from autocurriculum.trainers import greedy_complete

        if len(prompts) == 0:
            return []
        texts = [t.prompt for t in self.problem.tasks(prompts)]
        return greedy_complete(self.model, self.tokenizer, texts, self.max_new_tokens)

    def sample(self, prompts: Prompts) -> list[str]:
        from autocurriculum.trainers import generate

        if len(prompts) == 0:
            return []
        texts = [t.prompt for t in self.problem.tasks(prompts)]
        return generate(self.model, self.tokenizer, texts, self.max_new_tokens, generator=self.generator).texts


class TransformerLearner:
    name = "transformer"

    def __init__(self, config: TransformerLearnerConfig | None = None):
        self.config = config or TransformerLearnerConfig()
        self.config.validate()

    def new(self, problem: Problem, seed: int) -> Any:
        if not isinstance(problem, TextProblem):
            raise InvalidTypeError("the transformer learner needs a TextProblem (make_problem(..., text=True))")
        return TransformerHypothesis(problem, self.config, seed)
