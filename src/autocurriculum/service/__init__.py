"""Serving one curriculum to several trainers. Transport lives here, apart from the algorithms.

* ``CurriculumService``: in-process, thread-safe (the default);
* ``serve_curriculum`` / ``connect_curriculum``: the same curriculum as a named Ray actor shared by
  several processes or nodes (``ray`` is optional: ``pip install 'autocurriculum[ray]'``).

Both expose the core ``Curriculum`` API (select, update, filter, state_dict, load_state_dict), so
``core.collect_batch`` drives a served curriculum exactly like a local one. Trainers whose reward workers
score one rollout at a time (verl) report ``(task_id, reward)`` pairs with ``report_rollouts``; the service
assembles them into groups (``RolloutGrouping``) and persists the pending ones with its state.
"""

from autocurriculum.service.in_process import CurriculumService
from autocurriculum.service.ray_actor import (
    CurriculumActor,
    RayCurriculumClient,
    UpdateReceipt,
    connect_curriculum,
    serve_curriculum,
)
from autocurriculum.service.rollout_groups import RolloutGrouping, RolloutGroups

__all__ = [
    "CurriculumActor",
    "CurriculumService",
    "RayCurriculumClient",
    "RolloutGrouping",
    "RolloutGroups",
    "UpdateReceipt",
    "connect_curriculum",
    "serve_curriculum",
]
