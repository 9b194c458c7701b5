"""Beta posteriors that also learn from implicit evidence, and discounted pass rates per group of rows.

``ImplicitEvidenceBeta`` follows BOTS (Shen et al., "BOTS: A Unified Framework for Bayesian Online Task
Selection in LLM Reinforcement Finetuning", arXiv 2510.26374; code ``modelscope/Trinity-RFT``,
``trinity/buffer/selector/diff_estimator.py``). Every step, *every* row is updated:

    alpha <- (1 - lam) * alpha + lam * 1 + (1 - rho) * s + rho * p_tilde * m
    beta  <- (1 - lam) * beta  + lam * 1 + (1 - rho) * f + rho * (1 - p_tilde) * m

``s`` and ``f`` are the successes and failures observed this step (zero for rows not rolled out), ``p_tilde``
an interpolated pass rate worth ``m`` pseudo-rollouts, ``lam`` the weight of the Beta(1, 1) prior (the opposite
convention to MoPPS's discount) and ``rho`` the weight of the implicit evidence. As in the BOTS code, rows
observed this step use their observed pass rate as ``p_tilde``. This differs from ``PromptStatistics`` (which
discounts only observed rows and has no implicit term), hence a separate statistic.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autocurriculum.core.errors import ConfigError, InvalidArgumentError, StateFormatError


class ImplicitEvidenceBeta:
    """Per-row Beta posteriors with BOTS' update, applied to all rows at each step.

    A row whose ``implicit_rates`` entry is NaN (no estimate available) receives no pseudo-counts that step:
    only the prior term and, if observed, its own rollouts.
    """

    def __init__(self, size: int, pseudo_count: float = 16.0, prior_weight: float = 0.1, evidence_weight: float = 0.1):
        if pseudo_count < 0:
            raise ConfigError(f"pseudo_count must be >= 0, got {pseudo_count}")
        if not 0.0 <= prior_weight <= 1.0:
            raise ConfigError(f"prior_weight must lie in [0, 1], got {prior_weight}")
        if not 0.0 <= evidence_weight <= 1.0:
            raise ConfigError(f"evidence_weight must lie in [0, 1], got {evidence_weight}")
        self.pseudo_count = float(pseudo_count)
        self.prior_weight = float(prior_weight)
        self.evidence_weight = float(evidence_weight)
        self.alpha = np.ones(size)
        self.beta = np.ones(size)
        self.visits = np.zeros(size, dtype=np.int64)  # groups observed per row, for reporting

    def __len__(self) -> int:
        return self.alpha.size

    def observed_rates(self, rows: np.ndarray, successes: np.ndarray, trials: np.ndarray) -> tuple[np.ndarray, ...]:
        """Unique ``rows`` with their summed successes and trials and pass rates (repeats aggregated)."""
        rows = np.asarray(rows, dtype=np.int64)
        unique_rows, inverse = np.unique(rows, return_inverse=True)
        s = np.bincount(inverse, weights=np.asarray(successes, dtype=np.float64), minlength=unique_rows.size)
        n = np.bincount(inverse, weights=np.asarray(trials, dtype=np.float64), minlength=unique_rows.size)
        return unique_rows, s, n, s / np.maximum(n, 1e-12)

    def update(self, rows: np.ndarray, successes: np.ndarray, trials: np.ndarray, implicit_rates: np.ndarray) -> None:
        """One step: the batch's outcomes for ``rows`` plus ``implicit_rates`` (one per row, NaN = none)."""
        p_tilde = np.array(implicit_rates, dtype=np.float64)  # a copy: observed rows are overwritten below
        if p_tilde.shape != self.alpha.shape:
            raise InvalidArgumentError(f"implicit_rates has shape {p_tilde.shape}, expected {self.alpha.shape}")
        s_bar = np.zeros_like(self.alpha)
        f_bar = np.zeros_like(self.alpha)
        if np.asarray(rows).size:
            unique_rows, s, n, rates = self.observed_rates(rows, successes, trials)
            s_bar[unique_rows] = s
            f_bar[unique_rows] = n - s
            p_tilde[unique_rows] = rates
            self.visits += np.bincount(np.asarray(rows, dtype=np.int64), minlength=self.visits.size)
        known = ~np.isnan(p_tilde)
        p_known = np.where(known, p_tilde, 0.0)
        lam, rho, m = self.prior_weight, self.evidence_weight, self.pseudo_count
        self.alpha = (1 - lam) * self.alpha + lam + (1 - rho) * s_bar + np.where(known, rho * p_known * m, 0.0)
        self.beta = (1 - lam) * self.beta + lam + (1 - rho) * f_bar + np.where(known, rho * (1 - p_known) * m, 0.0)

    def posterior_mean(self, rows: np.ndarray | None = None) -> np.ndarray:
        a, b = (self.alpha, self.beta) if rows is None else (self.alpha[rows], self.beta[rows])
        return a / (a + b)

    def sample(self, rng: np.random.Generator, rows: np.ndarray | None = None) -> np.ndarray:
        """One Thompson draw of the pass rate per row."""
        a, b = (self.alpha, self.beta) if rows is None else (self.alpha[rows], self.beta[rows])
        return rng.beta(a, b)

    def state_dict(self) -> dict[str, Any]:
        return {
            "pseudo_count": self.pseudo_count,
            "prior_weight": self.prior_weight,
            "evidence_weight": self.evidence_weight,
            "alpha": self.alpha.copy(),
            "beta": self.beta.copy(),
            "visits": self.visits.copy(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if np.asarray(state["alpha"]).size != self.alpha.size:
            raise StateFormatError(
                f"state holds posteriors for {np.asarray(state['alpha']).size} prompts, this pool has {self.alpha.size}"
            )
        self.pseudo_count = float(state["pseudo_count"])
        self.prior_weight = float(state["prior_weight"])
        self.evidence_weight = float(state["evidence_weight"])
        self.alpha = np.array(state["alpha"], dtype=np.float64)
        self.beta = np.array(state["beta"], dtype=np.float64)
        self.visits = np.array(state["visits"], dtype=np.int64)


class DiscountedPassRates:
    """A pass rate per group (for example a category) as discounted successes over discounted trials.

    Each update multiplies every group's totals by ``discount`` and adds the batch: a running mean that forgets
    old evidence at rate ``1 - discount`` (``discount = 1`` is the plain cumulative mean). Unlike an EMA started
    at a guess, the ratio is unbiased from the first observation; a group never observed has rate NaN.
    """

    def __init__(self, size: int, discount: float = 0.9):
        if not 0.0 < discount <= 1.0:
            raise ConfigError(f"discount must lie in (0, 1], got {discount}")
        self.discount = float(discount)
        self.successes = np.zeros(size)
        self.trials = np.zeros(size)

    def __len__(self) -> int:
        return self.successes.size

    def update(self, groups: np.ndarray, successes: np.ndarray, trials: np.ndarray) -> None:
        groups = np.asarray(groups, dtype=np.int64)
        if groups.size == 0:
            return
        size = self.successes.size
        self.successes = self.discount * self.successes + np.bincount(
            groups, weights=np.asarray(successes, dtype=np.float64), minlength=size
        )
        self.trials = self.discount * self.trials + np.bincount(
            groups, weights=np.asarray(trials, dtype=np.float64), minlength=size
        )

    def rates(self) -> np.ndarray:
        """Pass rate per group; NaN for groups never observed."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.trials > 0, self.successes / self.trials, np.nan)

    def state_dict(self) -> dict[str, Any]:
        return {"discount": self.discount, "successes": self.successes.copy(), "trials": self.trials.copy()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if np.asarray(state["successes"]).size != self.successes.size:
            raise StateFormatError(f"state holds {np.asarray(state['successes']).size} groups, expected {len(self)}")
        self.discount = float(state["discount"])
        self.successes = np.array(state["successes"], dtype=np.float64)
        self.trials = np.array(state["trials"], dtype=np.float64)
