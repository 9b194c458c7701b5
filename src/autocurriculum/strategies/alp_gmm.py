"""ALP-GMM: absolute learning progress with Gaussian mixtures over task parameters (Portelas et al., "Teacher
algorithms for curriculum learning of Deep RL in continuously parameterized environments", arXiv 1910.07224).

Tasks are points of a continuous parameter space, here the pool's numeric knobs (``knobs``, default
``["level"]``), each normalised to [0, 1] by the pool's min and max. For every observed task

    ALP = |r - r_nn|,

where r is the group's pass rate and r_nn the outcome of the nearest previously observed task in knob space.
With a handful of knob values (difficulty levels) many prompts share a point, so "nearest previous" is the
latest outcome recorded at the nearest point observed in an earlier update (a point seen before is its own
nearest): ALP then measures how outcomes at that point changed over time, not the spread between two groups
of the same batch (``core.windows.NearestPreviousProgress``). The paper's code, whose k-d tree returns any of
several equally near tasks, leaves this tie open. Every ``fit_rate`` observed groups a Gaussian mixture over
[knobs, ALP] of the last ``fit_rate`` observations is fitted for k = 2..``max_components`` and the lowest
AIC kept (``core.gaussian_mixture``). Selection: before the first fit (bootstrap) and otherwise with
probability ``random_share``, a uniform prompt; else a Gaussian drawn with probability proportional to its
mean ALP (uniformly if all are 0), a knob point sampled from it (clipped to [0, 1]), and a prompt drawn
uniformly among the tasks at the pool's knob point nearest to it, so a level's many prompts are spread.

Defaults are the paper's (its code, ``flowersteam/teachDeepRL``, ``teachDRL/teachers/algos/alp_gmm.py``):
``fit_rate`` 250 with as many bootstrap observations, 20% random tasks, k in 2..10 by AIC, full covariances.
One observed group (G rollouts of one task, scored by its pass rate) plays the part of one episode (one task,
one scalar return), so 250 episodes become 250 groups: about 16 steps of 16 prompts, or 2 of 128. Where the
paper samples random tasks uniformly in the parameter space, a pool offers finitely many tasks, so the
random share draws a uniform prompt (uniform over the pool's own distribution of knob values). The paper's
code also gives ALP 0 to the first 5 tasks; here only a task with no earlier observation at all gets 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from autocurriculum.core import (
    ConfigError,
    Curriculum,
    CurriculumConfig,
    GroupOutcome,
    option,
    register_strategy,
    require,
)
from autocurriculum.core.gaussian_mixture import COVARIANCE_TYPES, AICMixtureFitter
from autocurriculum.core.windows import NearestPreviousProgress, RecentRows, nearest_points

REG_COVAR = 1e-6  # scikit-learn's default, used by the paper's code: keeps point-like clusters finite


@dataclass
class ALPGMMConfig(CurriculumConfig):
    knobs: list[str] = option(["level"], "Numeric task knobs spanning the task space (each scaled to [0, 1]).")
    fit_rate: int = option(
        250, "Observed groups between mixture fits, also the bootstrap and the fit window (paper: 250 episodes)."
    )
    random_share: float = option(0.2, "Probability of a uniform prompt after the bootstrap (paper: 0.2).")
    max_components: int = option(10, "Largest mixture tried; k runs over 2..max_components by AIC (paper: 10).")
    covariance: str = option("full", "Mixture covariances: 'full' (paper) or 'diag'.")

    def validate(self) -> None:
        super().validate()
        require(len(self.knobs) > 0, "knobs", "name at least one numeric task knob, e.g. ['level']")
        require(len(set(self.knobs)) == len(self.knobs), "knobs", f"names must be distinct, got {self.knobs}")
        require(self.fit_rate >= 2, "fit_rate", f"must be >= 2 (a mixture needs 2 points), got {self.fit_rate}")
        require(0 <= self.random_share <= 1, "random_share", f"must lie in [0, 1], got {self.random_share}")
        require(self.max_components >= 2, "max_components", f"must be >= 2, got {self.max_components}")
        require(
            self.covariance in COVARIANCE_TYPES,
            "covariance",
            f"must be one of {', '.join(COVARIANCE_TYPES)}, got {self.covariance!r}",
        )


def normalised_knobs(pool: Any, knobs: list[str], strategy: str) -> np.ndarray:
    """The pool's ``knobs`` columns scaled to [0, 1] per knob (a constant knob becomes 0), one row per task.

    Raises ``ConfigError`` naming ``strategy``, the field ``knobs``, what the pool offers and the fix when the
    pool has no knob columns (a streaming source), lacks a requested knob, or a task lacks one.
    """
    available = getattr(pool, "knob_names", None)
    if available is None or not callable(getattr(pool, "knob", None)):
        raise ConfigError(
            f"knobs: strategy {strategy!r} places tasks by their numeric knobs {knobs}, but a "
            f"{type(pool).__name__} has no knob columns; give it an in-memory TaskPool whose tasks carry these "
            "knobs (a StreamingTaskSource can materialize() one), or choose a category strategy such as 'sec'"
        )
    missing = [name for name in knobs if name not in available]
    if missing:
        offered = ", ".join(map(repr, available)) or "none"
        raise ConfigError(
            f"knobs: strategy {strategy!r} needs knob(s) {', '.join(map(repr, missing))}, but this pool's tasks "
            f"carry {offered}; set knobs to a subset of the available knobs, or add these knobs to the tasks"
        )
    columns = np.column_stack([np.asarray(pool.knob(name), dtype=np.float64) for name in knobs])
    lacking = np.isnan(columns).sum(axis=0)
    if lacking.any():
        name = knobs[int(np.flatnonzero(lacking)[0])]
        raise ConfigError(
            f"knobs: strategy {strategy!r} needs knob {name!r} on every task, but "
            f"{int(lacking.max())} of {len(pool)} tasks lack it; give those tasks the knob or choose knobs every "
            f"task has (available: {', '.join(map(repr, available))})"
        )
    low, high = columns.min(axis=0), columns.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    return np.where(high > low, (columns - low) / span, 0.0)


@register_strategy("alp-gmm")
class ALPGMMCurriculum(Curriculum):
    config_class = ALPGMMConfig
    config: ALPGMMConfig

    def __init__(self, pool, config: ALPGMMConfig | None = None):
        super().__init__(pool, config)
        self.task_knobs = normalised_knobs(pool, self.config.knobs, self.name)
        self.points, inverse = np.unique(self.task_knobs, axis=0, return_inverse=True)
        self.point_of_row = np.asarray(inverse, dtype=np.int64).reshape(-1)
        order = np.argsort(self.point_of_row, kind="stable")
        bounds = np.cumsum(np.bincount(self.point_of_row, minlength=self.points.shape[0]))[:-1]
        self.rows_by_point = np.split(order, bounds)
        self.progress = NearestPreviousProgress(self.points)
        self.history = RecentRows(self.config.fit_rate, self.points.shape[1] + 1)  # [knobs..., ALP]
        self.fitter = AICMixtureFitter(
            range(2, self.config.max_components + 1), covariance_type=self.config.covariance, reg_covar=REG_COVAR
        )

    @property
    def bootstrapping(self) -> bool:
        return self.fitter.mixture is None

    def component_probabilities(self) -> np.ndarray | None:
        """Probability of drawing each Gaussian of the current mixture (proportional to its mean ALP)."""
        mixture = self.fitter.mixture
        if mixture is None:
            return None
        alp_means = np.clip(mixture.means[:, -1], 0.0, None)
        total = alp_means.sum()
        return alp_means / total if total > 0 else np.full(alp_means.size, 1.0 / alp_means.size)

    def _select_rows(self, n: int) -> np.ndarray:
        mixture = self.fitter.mixture
        if mixture is None:
            return self.uniform_rows(n)
        rows = np.empty(n, dtype=np.int64)
        uniform = self.rng.random(n) < self.config.random_share
        if uniform.any():
            rows[uniform] = self.uniform_rows(int(uniform.sum()))
        guided = np.flatnonzero(~uniform)
        if guided.size == 0:
            return rows
        components = self.rng.choice(mixture.components, size=guided.size, p=self.component_probabilities())
        targets = np.empty((guided.size, self.points.shape[1]))
        for component in np.unique(components):
            slots = np.flatnonzero(components == component)
            targets[slots] = mixture.sample(int(component), slots.size, self.rng)[:, :-1]  # drop the ALP column
        nearest = nearest_points(np.clip(targets, 0.0, 1.0), self.points)
        for point in np.unique(nearest):
            slots = guided[nearest == point]
            rows[slots] = self.uniform_rows(slots.size, self.rows_by_point[point])
        return rows

    def _observe(self, rows: np.ndarray, outcomes: list[GroupOutcome]) -> None:
        pass_rates = np.array([o.pass_rate for o in outcomes])
        alp = self.progress.observe(self.point_of_row[rows], pass_rates, step=self.updates_seen)
        before = self.history.appended
        self.history.append(np.column_stack([self.task_knobs[rows], alp]))
        after = self.history.appended
        if after // self.config.fit_rate > before // self.config.fit_rate:  # crossed a multiple of fit_rate
            self.fitter.fit(self.history.values(), self.rng)

    def _stateful_parts(self) -> dict[str, Any]:
        return {"progress": self.progress, "history": self.history, "mixture": self.fitter}
