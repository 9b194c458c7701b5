"""Serving one curriculum to several trainers. Transport lives here, apart from the algorithms.

* ``CurriculumService``: in-process, thread-safe (the default);
* ``serve_curriculum`` / ``connect_curriculum``: the same curriculum as a named Ray actor shared by
  several processes or nodes (``ray`` is optional: ``pip install 'autocurriculum[ray]'``).

Both expose the core ``Curriculum`` API (select, update, filter, state_dict, load_state_dict), so
``core.collect_batch`` drives a served curriculum exactly like a local one.
"""

from autocurriculum.service.in_process import CurriculumService
from autocurriculum.service.ray_actor import CurriculumActor, RayCurriculumClient, connect_curriculum, serve_curriculum

__all__ = ["CurriculumActor", "CurriculumService", "RayCurriculumClient", "connect_curriculum", "serve_curriculum"]
