"""The one Hypothesis setting the fuzz tests share (issue 13, item 5).

Derandomized and without an example database, so a CI run is reproducible; no per-example deadline, because CI
cores are shared. Health checks that only say "this property is slow, filters a lot or uses a fixture" are off.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings


def fuzz(examples: int, **kwargs: Any) -> settings:
    """Reproducible settings for ``examples`` examples per property."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.function_scoped_fixture,
        ],
        **kwargs,
    )
