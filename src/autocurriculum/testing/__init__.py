"""The contracts every strategy and every task family must satisfy, shipped with the library.

In the spirit of scikit-learn's ``check_estimator``: ``check_curriculum("my-strategy")`` (or the class) runs
every check that applies to the strategy, chosen by what it declares (its ``needs`` and ``abilities``);
``check_task_family("my-family")`` does the same for a task family. The project's own tests call both over the
registries, so a new strategy or family is covered by registering it, nothing else. Needs no pytest.
"""

from autocurriculum.testing.curriculum import (
    CURRICULUM_CHECKS,
    ContractViolation,
    build,
    check_curriculum,
    contract_pool,
    drive,
    simulated_rollouts,
    true_pass_rate,
)
from autocurriculum.testing.task_family import TASK_FAMILY_CHECKS, check_task_family

__all__ = [
    "CURRICULUM_CHECKS",
    "TASK_FAMILY_CHECKS",
    "ContractViolation",
    "build",
    "check_curriculum",
    "check_task_family",
    "contract_pool",
    "drive",
    "simulated_rollouts",
    "true_pass_rate",
]
