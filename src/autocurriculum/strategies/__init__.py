"""Selection strategies, one file each. Importing this package registers them all."""

from autocurriculum.strategies.band import BandConfig, BandCurriculum
from autocurriculum.strategies.dynamic_sampling import DynamicSamplingConfig, DynamicSamplingCurriculum
from autocurriculum.strategies.goldilocks import GoldilocksConfig, GoldilocksCurriculum
from autocurriculum.strategies.oracle import OracleConfig, OracleCurriculum
from autocurriculum.strategies.pcl import PCLConfig, PCLCurriculum
from autocurriculum.strategies.sec import SECConfig, SECCurriculum
from autocurriculum.strategies.thompson import ThompsonConfig, ThompsonCurriculum
from autocurriculum.strategies.uniform import UniformCurriculum

__all__ = [
    "BandConfig",
    "BandCurriculum",
    "DynamicSamplingConfig",
    "DynamicSamplingCurriculum",
    "GoldilocksConfig",
    "GoldilocksCurriculum",
    "OracleConfig",
    "OracleCurriculum",
    "PCLConfig",
    "PCLCurriculum",
    "SECConfig",
    "SECCurriculum",
    "ThompsonConfig",
    "ThompsonCurriculum",
    "UniformCurriculum",
]
