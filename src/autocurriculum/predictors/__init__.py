"""Learned difficulty teachers for strategies that must generalise to unseen prompts (Goldilocks, PCL).

Importing this package never imports torch: the head's learner imports it when a
teacher first sees features, and the sentence-embedding model loads on first use.
"""

from autocurriculum.predictors.async_trainer import TEACHER_MODES, AsyncTeacherTrainer, TeacherTrainingError
from autocurriculum.predictors.features import (
    FEATURE_KINDS,
    FeatureExtractor,
    FeatureProvider,
    HashedNgramFeatures,
    SentenceEmbeddingFeatures,
    StudentHiddenStateFeatures,
    hidden_state_provider,
    make_features,
)
from autocurriculum.predictors.head import HeadSpec, TorchHeadLearner, init_weights, predict
from autocurriculum.predictors.metrics import (
    TeacherMetrics,
    mean_absolute_error,
    rankdata,
    spearman,
    teacher_time_fraction,
)
from autocurriculum.predictors.replay_buffer import ReplayBuffer
from autocurriculum.predictors.strategy import SELECTION_RULES, PredictorConfig, PredictorCurriculum
from autocurriculum.predictors.teacher import DifficultyTeacher

__all__ = [
    "FEATURE_KINDS",
    "SELECTION_RULES",
    "TEACHER_MODES",
    "AsyncTeacherTrainer",
    "DifficultyTeacher",
    "FeatureExtractor",
    "FeatureProvider",
    "HashedNgramFeatures",
    "HeadSpec",
    "PredictorConfig",
    "PredictorCurriculum",
    "ReplayBuffer",
    "SentenceEmbeddingFeatures",
    "StudentHiddenStateFeatures",
    "TeacherMetrics",
    "TeacherTrainingError",
    "TorchHeadLearner",
    "hidden_state_provider",
    "init_weights",
    "make_features",
    "mean_absolute_error",
    "predict",
    "rankdata",
    "spearman",
    "teacher_time_fraction",
]
