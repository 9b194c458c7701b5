"""Procedural, verifiable task families with a ``level`` difficulty knob (NumPy only, no torch).

Importing this package registers the built-in families ``addition`` and ``op_chain``.
"""

from autocurriculum.tasks.addition import AdditionConfig, AdditionFamily, addition_answer, addition_prompt
from autocurriculum.tasks.base import (
    TaskFamily,
    TaskFamilyConfig,
    build_pool,
    make_task_family,
    make_task_family_config,
    register_task_family,
    score_completion,
    task_family_class,
    task_family_names,
    verifier_for,
)
from autocurriculum.tasks.clustered_op_chain import ClusteredOpChainConfig, ClusteredOpChainFamily
from autocurriculum.tasks.datasets import DatasetFormatError, MalformedRowsWarning, load_task_pool
from autocurriculum.tasks.op_chain import (
    OpChainConfig,
    OpChainFamily,
    apply_operation,
    op_chain_demonstration,
    op_chain_prompt,
    op_chain_states,
)
from autocurriculum.tasks.reasoning_gym_source import ReasoningGymSource
from autocurriculum.tasks.streaming import StreamingTaskSource, disjoint_streams

__all__ = [
    "AdditionConfig",
    "AdditionFamily",
    "ClusteredOpChainConfig",
    "ClusteredOpChainFamily",
    "DatasetFormatError",
    "MalformedRowsWarning",
    "OpChainConfig",
    "OpChainFamily",
    "ReasoningGymSource",
    "StreamingTaskSource",
    "TaskFamily",
    "TaskFamilyConfig",
    "addition_answer",
    "addition_prompt",
    "apply_operation",
    "build_pool",
    "disjoint_streams",
    "load_task_pool",
    "make_task_family",
    "make_task_family_config",
    "op_chain_demonstration",
    "op_chain_prompt",
    "op_chain_states",
    "register_task_family",
    "score_completion",
    "task_family_class",
    "task_family_names",
    "verifier_for",
]
