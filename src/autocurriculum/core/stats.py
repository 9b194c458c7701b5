"""Vectorized per-prompt statistics shared by every history-based strategy."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


class PromptStatistics:
    """Success/failure counts and a discounted Beta posterior for each pool row.

    The posterior follows MoPPS: after observing ``s`` successes in ``n`` trials,

        alpha <- discount * alpha + (1 - discount) * prior_alpha + s
        beta  <- discount * beta  + (1 - discount) * prior_beta  + (n - s)

    ``discount = 1`` keeps all evidence; smaller values forget old evidence,
    which matters because the student's pass rate drifts as it learns.
    Only rows observed in an update are discounted (the others saw no new data).
    """

    def __init__(self, size: int, prior_alpha: float = 1.0, prior_beta: float = 1.0, discount: float = 1.0):
        if prior_alpha <= 0 or prior_beta <= 0:
            raise ValueError(f"Beta prior must be positive, got alpha={prior_alpha}, beta={prior_beta}")
        if not 0.0 <= discount <= 1.0:
            raise ValueError(f"discount must lie in [0, 1], got {discount}")
        self.prior_alpha = float(prior_alpha)
        self.prior_beta = float(prior_beta)
        self.discount = float(discount)
        self.alpha = np.full(size, self.prior_alpha)
        self.beta = np.full(size, self.prior_beta)
        self.successes = np.zeros(size)  # undiscounted totals, for reporting
        self.trials = np.zeros(size)
        self.visits = np.zeros(size, dtype=np.int64)  # groups observed
        self.last_seen_step = np.full(size, -1, dtype=np.int64)
        self.last_pass_rate = np.full(size, np.nan)

    def __len__(self) -> int:
        return self.alpha.size

    def observe(self, rows: np.ndarray, successes: np.ndarray, trials: np.ndarray, step: int = 0) -> None:
        """Fold in one batch of groups; a row repeated within the batch is aggregated first."""
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size == 0:
            return
        successes = np.asarray(successes, dtype=np.float64)
        trials = np.asarray(trials, dtype=np.float64)
        unique_rows, inverse = np.unique(rows, return_inverse=True)
        s = np.bincount(inverse, weights=successes, minlength=unique_rows.size)
        n = np.bincount(inverse, weights=trials, minlength=unique_rows.size)
        lam = self.discount
        self.alpha[unique_rows] = lam * self.alpha[unique_rows] + (1 - lam) * self.prior_alpha + s
        self.beta[unique_rows] = lam * self.beta[unique_rows] + (1 - lam) * self.prior_beta + (n - s)
        self.successes[unique_rows] += s
        self.trials[unique_rows] += n
        self.visits[unique_rows] += np.bincount(inverse, minlength=unique_rows.size)
        self.last_seen_step[unique_rows] = step
        self.last_pass_rate[unique_rows] = s / np.maximum(n, 1e-12)

    def posterior_mean(self, rows: np.ndarray | None = None) -> np.ndarray:
        a, b = (self.alpha, self.beta) if rows is None else (self.alpha[rows], self.beta[rows])
        return a / (a + b)

    def sample(self, rng: np.random.Generator, rows: np.ndarray | None = None) -> np.ndarray:
        """One Thompson draw of the pass rate per row."""
        a, b = (self.alpha, self.beta) if rows is None else (self.alpha[rows], self.beta[rows])
        return rng.beta(a, b)

    def empirical_pass_rate(self, rows: np.ndarray | None = None) -> np.ndarray:
        """Observed success fraction; NaN for rows never seen."""
        s, n = (self.successes, self.trials) if rows is None else (self.successes[rows], self.trials[rows])
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, s / n, np.nan)

    def state_dict(self) -> dict[str, Any]:
        return {
            "prior_alpha": self.prior_alpha,
            "prior_beta": self.prior_beta,
            "discount": self.discount,
            "alpha": self.alpha.copy(),
            "beta": self.beta.copy(),
            "successes": self.successes.copy(),
            "trials": self.trials.copy(),
            "visits": self.visits.copy(),
            "last_seen_step": self.last_seen_step.copy(),
            "last_pass_rate": self.last_pass_rate.copy(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if np.asarray(state["alpha"]).size != self.alpha.size:
            raise ValueError(
                f"state holds statistics for {np.asarray(state['alpha']).size} prompts, this pool has {self.alpha.size}"
            )
        self.prior_alpha = float(state["prior_alpha"])
        self.prior_beta = float(state["prior_beta"])
        self.discount = float(state["discount"])
        for name in ("alpha", "beta", "successes", "trials", "visits", "last_seen_step", "last_pass_rate"):
            current = getattr(self, name)
            setattr(self, name, np.array(state[name], dtype=current.dtype))


def nearest_to_target(values: np.ndarray, target: float, k: int) -> np.ndarray:
    """Indices of the ``k`` values closest to ``target`` (stable: ties keep input order)."""
    order = np.argsort(np.abs(np.asarray(values) - target), kind="stable")
    return order[:k]


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    statistic: Callable[..., Any] = np.median,
    confidence: float = 0.95,
    resamples: int = 10_000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic`` over ``values`` (for example per-seed results).

    ``values`` must be finite floats; the caller drops undefined entries first, so that what was left out is a
    decision it can report. ``statistic`` is a NumPy-style reduction taking ``axis`` (``np.median``, ``np.mean``);
    one that does not is applied row by row. The same ``seed`` always gives the same interval. A single value
    gives ``(v, v)``: there is no spread to resample.
    """
    data = np.asarray(values, dtype=np.float64).ravel()
    if data.size == 0:
        raise ValueError("bootstrap_ci needs at least one value")
    if not np.all(np.isfinite(data)):
        raise ValueError(f"bootstrap_ci takes finite values only (drop undefined ones first), got {data.tolist()}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    if resamples < 1:
        raise ValueError(f"resamples must be >= 1, got {resamples}")
    if data.size == 1:
        return float(data[0]), float(data[0])
    rng = np.random.default_rng(seed)
    samples = data[rng.integers(0, data.size, size=(resamples, data.size))]
    try:
        estimates = np.asarray(statistic(samples, axis=1), dtype=np.float64)
    except TypeError:  # a plain function of one sample
        estimates = np.array([statistic(row) for row in samples], dtype=np.float64)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(estimates, [tail, 1.0 - tail])
    return float(low), float(high)
