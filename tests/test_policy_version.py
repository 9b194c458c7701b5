"""Outcomes carry the policy version that generated them: late groups can count for less, and the service
applies a batch oldest version first."""

import numpy as np

from autocurriculum.core import GroupOutcome, make_curriculum
from autocurriculum.service import CurriculumService
from autocurriculum.testing import contract_pool


def test_staleness_is_measured_from_the_newest_version_seen() -> None:
    curriculum = make_curriculum("uniform", contract_pool())
    curriculum.update([GroupOutcome("task-1", np.ones(4), step=7)])
    assert curriculum.latest_step == 7
    assert curriculum.staleness([GroupOutcome("task-2", np.ones(4), step=3)]).tolist() == [4.0]
    restored = make_curriculum("uniform", contract_pool())
    restored.load_state_dict(curriculum.state_dict())
    assert restored.latest_step == 7


def test_thompson_discounts_late_groups_only_when_asked() -> None:
    def evidence(stale_discount: float) -> float:
        curriculum = make_curriculum("thompson", contract_pool(), {"discount": 1.0, "stale_discount": stale_discount})
        curriculum.update([GroupOutcome("task-0", np.ones(8), step=10)])
        curriculum.update([GroupOutcome("task-1", np.ones(8), step=8)])  # two versions late
        return float(curriculum.stats.alpha[1] - 1.0)

    assert evidence(1.0) == 8.0  # the default (MoPPS) counts all evidence
    assert evidence(0.5) == 2.0  # 8 successes x 0.5^2


def test_service_applies_a_batch_oldest_version_first() -> None:
    """GRESO's streaks depend on order: the newest group of a prompt decides whether it is on a streak."""
    service = CurriculumService.create("greso", contract_pool())
    newest_first = [GroupOutcome("task-0", np.zeros(8), step=5), GroupOutcome("task-0", np.ones(8), step=2)]
    service.update(newest_first)
    streaks = service.state_dict()["streaks"]
    assert streaks["hard"][0] == 1 and streaks["easy"][0] == 0  # the all-wrong group of version 5 came last
