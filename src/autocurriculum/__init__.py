"""autocurriculum: decide what a reasoning model should practise next.

Importing the package registers the built-in strategies and task families.
Neither pulls in torch; the trainers do, and are imported on demand.
"""

from autocurriculum import strategies as _strategies  # noqa: F401  (registers strategies)
from autocurriculum import tasks as _tasks  # noqa: F401  (registers task families)
from autocurriculum.core import (
    Curriculum,
    CurriculumConfig,
    GroupOutcome,
    Task,
    TaskPool,
    make_curriculum,
    strategy_names,
)

__version__ = "0.1.0"

__all__ = [
    "Curriculum",
    "CurriculumConfig",
    "GroupOutcome",
    "Task",
    "TaskPool",
    "__version__",
    "make_curriculum",
    "strategy_names",
]
