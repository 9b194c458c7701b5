"""Every registered strategy and task family against the contracts shipped in ``autocurriculum.testing``."""

import pytest

import autocurriculum.strategies  # noqa: F401 - registers every strategy
from autocurriculum.core import strategy_names
from autocurriculum.tasks import task_family_names
from autocurriculum.testing import TASK_FAMILY_CHECKS, ContractViolation, check_curriculum
from autocurriculum.testing.curriculum import checks_for


@pytest.mark.parametrize(
    ("name", "check"),
    [(name, check) for name in strategy_names() for check in checks_for(name)],
    ids=lambda v: v if isinstance(v, str) else v.__name__.removeprefix("check_"),
)
def test_strategy_contract(name: str, check) -> None:
    check(name)


@pytest.mark.parametrize("check", TASK_FAMILY_CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
@pytest.mark.parametrize("name", task_family_names())
def test_task_family_contract(name: str, check) -> None:
    check(name)


def test_registry_is_not_empty() -> None:
    assert {"uniform", "dynamic-sampling", "band", "thompson", "oracle", "greso", "speed", "knapsack"} <= set(
        strategy_names()
    )


def test_check_curriculum_catches_a_broken_strategy() -> None:
    """The contract can fail: a strategy whose state does not restore its posterior is caught."""
    from autocurriculum.core import register_strategy
    from autocurriculum.core.registry import STRATEGIES
    from autocurriculum.strategies.thompson import ThompsonCurriculum

    @register_strategy("broken-thompson-for-test")
    class Forgetful(ThompsonCurriculum):
        def _stateful_parts(self):  # forgets its posterior on save
            return {}

    try:
        with pytest.raises(ContractViolation, match=r"broken-thompson-for-test.*round_trip"):
            check_curriculum("broken-thompson-for-test")
    finally:
        STRATEGIES._classes.pop("broken-thompson-for-test")


def test_check_curriculum_catches_an_allocation_that_misses_the_budget() -> None:
    from autocurriculum.core import AllocationError, register_strategy
    from autocurriculum.core.registry import STRATEGIES
    from autocurriculum.strategies.knapsack import KnapsackCurriculum

    @register_strategy("overspending-knapsack-for-test")
    class Overspending(KnapsackCurriculum):
        def _allocate(self, rows, budget):
            return super()._allocate(rows, budget) + 1

    try:
        with pytest.raises(AllocationError, match=r"overspending-knapsack-for-test.*sum to the budget 64"):
            check_curriculum("overspending-knapsack-for-test")
    finally:
        STRATEGIES._classes.pop("overspending-knapsack-for-test")
