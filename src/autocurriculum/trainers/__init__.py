"""Embedded testbed trainers: a tiny GPT, KV-cache sampling, SFT warm start and GRPO.

Importing this package pulls in torch; the rest of autocurriculum does not.
"""

from autocurriculum.trainers.checkpoint import LoadedModel, load_model, save_model
from autocurriculum.trainers.grpo import (
    GRPOConfig,
    GRPOTrainer,
    PolicyLoss,
    RolloutGroup,
    group_advantages,
    policy_loss,
)
from autocurriculum.trainers.sampling import Generation, generate, greedy_complete
from autocurriculum.trainers.sequences import completion_logprobs, left_pad
from autocurriculum.trainers.sft import SFTConfig, SFTTrainer
from autocurriculum.trainers.tiny_gpt import TinyGPT, TinyGPTConfig, position_ids_from_mask
from autocurriculum.trainers.tokenizer import EOS_ID, PAD_ID, CharTokenizer

__all__ = [
    "EOS_ID",
    "PAD_ID",
    "CharTokenizer",
    "GRPOConfig",
    "GRPOTrainer",
    "Generation",
    "LoadedModel",
    "PolicyLoss",
    "RolloutGroup",
    "SFTConfig",
    "SFTTrainer",
    "TinyGPT",
    "TinyGPTConfig",
    "completion_logprobs",
    "generate",
    "greedy_complete",
    "group_advantages",
    "left_pad",
    "load_model",
    "policy_loss",
    "position_ids_from_mask",
    "save_model",
]
