"""Vectorized per-prompt statistics shared by every history-based strategy."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autocurriculum.core.errors import ConfigError, InvalidArgumentError, StateFormatError


class PromptStatistics:
    """Success/trial counts and a discounted Beta posterior for each pool row: 16 bytes per prompt.

    The posterior follows MoPPS: after observing ``s`` successes in ``n`` trials,

        alpha <- discount * alpha + (1 - discount) * prior_alpha + s
        beta  <- discount * beta  + (1 - discount) * prior_beta  + (n - s)

    ``discount = 1`` keeps all evidence; smaller values forget old evidence,
    which matters because the student's pass rate drifts as it learns.
    Only rows observed in an update are discounted (the others saw no new data).
    Four float32 arrays (alpha, beta and the undiscounted successes and trials), so a 10M-prompt pool costs
    160 MB; float32 counts are exact up to 2^24 trials per prompt.
    """

    def __init__(self, size: int, prior_alpha: float = 1.0, prior_beta: float = 1.0, discount: float = 1.0):
        if prior_alpha <= 0 or prior_beta <= 0:
            raise ConfigError(f"Beta prior must be positive, got alpha={prior_alpha}, beta={prior_beta}")
        if not 0.0 <= discount <= 1.0:
            raise ConfigError(f"discount must lie in [0, 1], got {discount}")
        self.prior_alpha = float(prior_alpha)
        self.prior_beta = float(prior_beta)
        self.discount = float(discount)
        self.alpha = np.full(size, self.prior_alpha, dtype=np.float32)
        self.beta = np.full(size, self.prior_beta, dtype=np.float32)
        self.successes = np.zeros(size, dtype=np.float32)  # undiscounted totals, for reporting
        self.trials = np.zeros(size, dtype=np.float32)

    def __len__(self) -> int:
        return self.alpha.size

    @property
    def bytes_per_prompt(self) -> int:
        return sum(a.itemsize for a in (self.alpha, self.beta, self.successes, self.trials))

    def observe(self, rows: np.ndarray, successes: np.ndarray, trials: np.ndarray, step: int = 0) -> None:
        """Fold in one batch of groups; a row repeated within the batch is aggregated first."""
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size == 0:
            return
        successes = np.asarray(successes, dtype=np.float64)
        trials = np.asarray(trials, dtype=np.float64)
        if np.unique(rows).size == rows.size:  # the usual case: no aggregation needed
            unique_rows, s, n = rows, successes, trials
        else:
            unique_rows, inverse = np.unique(rows, return_inverse=True)
            s = np.bincount(inverse, weights=successes, minlength=unique_rows.size)
            n = np.bincount(inverse, weights=trials, minlength=unique_rows.size)
        lam = self.discount
        self.alpha[unique_rows] = lam * self.alpha[unique_rows] + (1 - lam) * self.prior_alpha + s
        self.beta[unique_rows] = lam * self.beta[unique_rows] + (1 - lam) * self.prior_beta + (n - s)
        self.successes[unique_rows] += s
        self.trials[unique_rows] += n

    def posterior_mean(self, rows: np.ndarray | None = None) -> np.ndarray:
        a, b = (self.alpha, self.beta) if rows is None else (self.alpha[rows], self.beta[rows])
        return (a / (a + b)).astype(np.float64)

    def sample(self, rng: np.random.Generator, rows: np.ndarray | None = None) -> np.ndarray:
        """One Thompson draw of the pass rate per row."""
        a, b = (self.alpha, self.beta) if rows is None else (self.alpha[rows], self.beta[rows])
        return rng.beta(a, b)

    def empirical_pass_rate(self, rows: np.ndarray | None = None) -> np.ndarray:
        """Observed success fraction; NaN for rows never seen."""
        s, n = (self.successes, self.trials) if rows is None else (self.successes[rows], self.trials[rows])
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, s / n, np.nan).astype(np.float64)

    def state_dict(self) -> dict[str, Any]:
        return {
            "prior_alpha": self.prior_alpha,
            "prior_beta": self.prior_beta,
            "discount": self.discount,
            "alpha": self.alpha.copy(),
            "beta": self.beta.copy(),
            "successes": self.successes.copy(),
            "trials": self.trials.copy(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if np.asarray(state["alpha"]).size != self.alpha.size:
            raise StateFormatError(
                f"state holds statistics for {np.asarray(state['alpha']).size} prompts, this pool has {self.alpha.size}"
            )
        self.prior_alpha = float(state["prior_alpha"])
        self.prior_beta = float(state["prior_beta"])
        self.discount = float(state["discount"])
        for name in ("alpha", "beta", "successes", "trials"):
            setattr(self, name, np.array(state[name], dtype=np.float32))


class LastGroupStatistics:
    """Each row's most recent group: its pass rate (NaN if never seen) and its size. 6 bytes per prompt."""

    def __init__(self, size: int):
        self.pass_rate = np.full(size, np.nan, dtype=np.float32)
        self.group_size = np.zeros(size, dtype=np.uint16)

    def observe(self, rows: np.ndarray, successes: np.ndarray, trials: np.ndarray) -> None:
        """Record groups in order (of a row repeated in one batch, the last group wins)."""
        trials = np.asarray(trials, dtype=np.float64)
        self.pass_rate[rows] = np.asarray(successes, dtype=np.float64) / np.maximum(trials, 1e-12)
        self.group_size[rows] = np.minimum(trials, np.iinfo(np.uint16).max)

    def state_dict(self) -> dict[str, Any]:
        return {"pass_rate": self.pass_rate.copy(), "group_size": self.group_size.copy()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if np.asarray(state["pass_rate"]).size != self.pass_rate.size:
            raise StateFormatError(
                f"state holds {np.asarray(state['pass_rate']).size} prompts, not {self.pass_rate.size}"
            )
        self.pass_rate = np.array(state["pass_rate"], dtype=np.float32)
        self.group_size = np.array(state["group_size"], dtype=np.uint16)


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
        raise InvalidArgumentError("bootstrap_ci needs at least one value")
    if not np.all(np.isfinite(data)):
        raise InvalidArgumentError(
            f"bootstrap_ci takes finite values only (drop undefined ones first), got {data.tolist()}"
        )
    if not 0.0 < confidence < 1.0:
        raise InvalidArgumentError(f"confidence must lie in (0, 1), got {confidence}")
    if resamples < 1:
        raise InvalidArgumentError(f"resamples must be >= 1, got {resamples}")
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


def vendi_score(features: np.ndarray) -> float:
    """Vendi score (Friedman and Dieng, 2023) of ``n`` items under the cosine kernel of their feature rows.

    The exponential of the Shannon entropy of the eigenvalues of ``K / n``, where ``K[i, j]`` is the cosine
    similarity of rows ``i`` and ``j``: the effective number of distinct items, from 1 (all alike) to ``n`` (all
    orthogonal). It counts near-duplicates as partly the same item, which an entropy over discrete cells cannot.
    The non-zero eigenvalues of ``X X^T / n`` are those of ``X^T X / n``, so the cost is set by the smaller side.
    """
    rows = np.asarray(features, dtype=np.float64)
    if rows.ndim != 2 or rows.shape[0] == 0:
        raise InvalidArgumentError(f"vendi_score needs a non-empty 2-D feature matrix, got shape {rows.shape}")
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise InvalidArgumentError("vendi_score: a feature row is all zeros, so its cosine similarity is undefined")
    unit = rows / norms
    n = unit.shape[0]
    gram = unit @ unit.T if n <= unit.shape[1] else unit.T @ unit
    eigenvalues = np.clip(np.linalg.eigvalsh(gram / n), 0.0, None)
    eigenvalues = eigenvalues[eigenvalues > 1e-12]
    return float(np.exp(-np.sum(eigenvalues * np.log(eigenvalues))))
