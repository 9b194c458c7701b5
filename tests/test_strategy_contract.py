import pytest

from autocurriculum.core import strategy_names
from strategy_contract import ALL_CHECKS


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
@pytest.mark.parametrize("name", strategy_names())
def test_strategy_contract(name: str, check) -> None:
    check(name)


def test_registry_is_not_empty() -> None:
    assert {"uniform", "dynamic-sampling", "band", "thompson", "oracle"} <= set(strategy_names())
