"""Selection strategies, one file each. Importing this package registers them all."""

from autocurriculum.strategies.adarft import AdaRFTConfig, AdaRFTCurriculum
from autocurriculum.strategies.alp_gmm import ALPGMMConfig, ALPGMMCurriculum
from autocurriculum.strategies.band import BandConfig, BandCurriculum
from autocurriculum.strategies.bots import BOTSConfig, BOTSCurriculum
from autocurriculum.strategies.cures import CurESConfig, CurESCurriculum
from autocurriculum.strategies.dump import DUMPConfig, DUMPCurriculum
from autocurriculum.strategies.dynamic_sampling import DynamicSamplingConfig, DynamicSamplingCurriculum
from autocurriculum.strategies.goldilocks import GoldilocksConfig, GoldilocksCurriculum
from autocurriculum.strategies.greso import GRESOConfig, GRESOCurriculum
from autocurriculum.strategies.knapsack import KnapsackConfig, KnapsackCurriculum
from autocurriculum.strategies.learning_progress import LearningProgressConfig, LearningProgressCurriculum
from autocurriculum.strategies.length_curriculum import LengthCurriculum, LengthCurriculumConfig
from autocurriculum.strategies.oracle import OracleConfig, OracleCurriculum
from autocurriculum.strategies.pcl import PCLConfig, PCLCurriculum
from autocurriculum.strategies.sec import SECConfig, SECCurriculum
from autocurriculum.strategies.speed import SPEEDConfig, SPEEDCurriculum
from autocurriculum.strategies.thompson import ThompsonConfig, ThompsonCurriculum
from autocurriculum.strategies.uniform import UniformCurriculum
from autocurriculum.strategies.vcrl import VCRLConfig, VCRLCurriculum

__all__ = [
    "ALPGMMConfig",
    "ALPGMMCurriculum",
    "AdaRFTConfig",
    "AdaRFTCurriculum",
    "BOTSConfig",
    "BOTSCurriculum",
    "BandConfig",
    "BandCurriculum",
    "CurESConfig",
    "CurESCurriculum",
    "DUMPConfig",
    "DUMPCurriculum",
    "DynamicSamplingConfig",
    "DynamicSamplingCurriculum",
    "GRESOConfig",
    "GRESOCurriculum",
    "GoldilocksConfig",
    "GoldilocksCurriculum",
    "KnapsackConfig",
    "KnapsackCurriculum",
    "LearningProgressConfig",
    "LearningProgressCurriculum",
    "LengthCurriculum",
    "LengthCurriculumConfig",
    "OracleConfig",
    "OracleCurriculum",
    "PCLConfig",
    "PCLCurriculum",
    "SECConfig",
    "SECCurriculum",
    "SPEEDConfig",
    "SPEEDCurriculum",
    "ThompsonConfig",
    "ThompsonCurriculum",
    "UniformCurriculum",
    "VCRLConfig",
    "VCRLCurriculum",
]
