"""Gaussian mixtures fitted by expectation-maximisation, with the number of components chosen by AIC.

Written for ALP-GMM (Portelas et al., arXiv 1910.07224), which fits mixtures with k = 2..10 components over
(task parameters, ALP) and keeps the one with the lowest Akaike information criterion

    AIC = 2 p - 2 log L,    p = k d + k c(d) + (k - 1),    c(d) = d (d + 1) / 2 (full) or d (diagonal),

the setup of the paper's code (scikit-learn ``GaussianMixture``, full covariances, one k-means
initialisation, ``reg_covar`` 1e-6 added to every covariance, tolerance 1e-3 on the mean log-likelihood,
at most 100 iterations). NumPy only; every random choice comes from the caller's generator.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from autocurriculum.core.errors import ConfigError, InvalidArgumentError

COVARIANCE_TYPES = ("full", "diag")
_TINY = 10 * np.finfo(np.float64).eps  # keeps an emptied component's weight and responsibilities finite


@dataclass
class GaussianMixture:
    """A fitted mixture: ``weights`` (k,), ``means`` (k, d), ``covariances`` (k, d, d), and its fit."""

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    covariance_type: str = "full"
    log_likelihood: float = float("nan")  # total over the data it was fitted on
    n_samples: int = 0
    iterations: int = 0
    converged: bool = False

    @property
    def components(self) -> int:
        return int(self.weights.size)

    @property
    def dim(self) -> int:
        return int(self.means.shape[1])

    def n_parameters(self) -> int:
        d = self.dim
        per_covariance = d * (d + 1) // 2 if self.covariance_type == "full" else d
        return self.components * (d + per_covariance) + self.components - 1

    def aic(self) -> float:
        return 2.0 * self.n_parameters() - 2.0 * self.log_likelihood

    def component_log_density(self, data: np.ndarray) -> np.ndarray:
        """log N(x | mean_j, cov_j) for every row of ``data`` and component j: shape (n, k)."""
        return _component_log_density(np.atleast_2d(np.asarray(data, dtype=np.float64)), self.means, self.covariances)

    def log_density(self, data: np.ndarray) -> np.ndarray:
        """log of the mixture density at every row of ``data``."""
        return _logsumexp(self.component_log_density(data) + np.log(self.weights), axis=1)

    def sample(self, component: int, count: int, rng: np.random.Generator) -> np.ndarray:
        """``count`` draws from one component: shape (count, d)."""
        factor = np.linalg.cholesky(self.covariances[component])
        return self.means[component] + rng.standard_normal((count, self.dim)) @ factor.T

    def state_dict(self) -> dict[str, Any]:
        return {
            "weights": self.weights.copy(),
            "means": self.means.copy(),
            "covariances": self.covariances.copy(),
            "covariance_type": self.covariance_type,
            "log_likelihood": float(self.log_likelihood),
            "n_samples": int(self.n_samples),
            "iterations": int(self.iterations),
            "converged": bool(self.converged),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> GaussianMixture:
        return cls(
            weights=np.array(state["weights"], dtype=np.float64),
            means=np.array(state["means"], dtype=np.float64),
            covariances=np.array(state["covariances"], dtype=np.float64),
            covariance_type=str(state["covariance_type"]),
            log_likelihood=float(state["log_likelihood"]),
            n_samples=int(state["n_samples"]),
            iterations=int(state["iterations"]),
            converged=bool(state["converged"]),
        )


def _logsumexp(values: np.ndarray, axis: int) -> np.ndarray:
    peak = values.max(axis=axis, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0.0)
    return (np.log(np.exp(values - peak).sum(axis=axis, keepdims=True)) + peak).squeeze(axis)


def _component_log_density(data: np.ndarray, means: np.ndarray, covariances: np.ndarray) -> np.ndarray:
    n, d = data.shape
    out = np.empty((n, means.shape[0]))
    for j in range(means.shape[0]):
        factor = np.linalg.cholesky(covariances[j])
        whitened = np.linalg.solve(factor, (data - means[j]).T)  # L z = x - mu
        log_det = 2.0 * np.log(np.diag(factor)).sum()
        out[:, j] = -0.5 * (d * math.log(2 * math.pi) + log_det + (whitened**2).sum(axis=0))
    return out


def _kmeans_labels(data: np.ndarray, k: int, rng: np.random.Generator, iterations: int = 10) -> np.ndarray:
    """k-means++ seeding and a few Lloyd iterations: the initial hard assignment of EM."""
    n = data.shape[0]
    centers = np.empty((k, data.shape[1]))
    centers[0] = data[rng.integers(n)]
    closest = ((data - centers[0]) ** 2).sum(axis=1)
    for j in range(1, k):
        total = closest.sum()
        pick = rng.integers(n) if total <= 0 else rng.choice(n, p=closest / total)  # all points covered: any
        centers[j] = data[pick]
        closest = np.minimum(closest, ((data - centers[j]) ** 2).sum(axis=1))
    labels = np.zeros(n, dtype=np.int64)
    for _ in range(iterations):
        labels = ((data[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
        for j in range(k):
            members = labels == j
            if members.any():  # an empty cluster keeps its center
                centers[j] = data[members].mean(axis=0)
    return labels


def _maximisation(
    data: np.ndarray,
    responsibilities: np.ndarray,
    previous_means: np.ndarray | None,
    covariance_type: str,
    reg_covar: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n, d = data.shape
    mass = responsibilities.sum(axis=0)
    weights = (mass + _TINY) / (n + _TINY * mass.size)
    means = (responsibilities.T @ data) / (mass[:, None] + _TINY)
    if previous_means is not None:  # a component that lost every point stays where it was
        means = np.where(mass[:, None] > _TINY, means, previous_means)
    covariances = np.empty((mass.size, d, d))
    for j in range(mass.size):
        centered = data - means[j]
        covariance = (responsibilities[:, j, None] * centered).T @ centered / (mass[j] + _TINY)
        if covariance_type == "diag":
            covariance = np.diag(np.diag(covariance))
        covariances[j] = covariance + reg_covar * np.eye(d)
    return weights, means, covariances


def fit_gaussian_mixture(
    data: np.ndarray,
    components: int,
    rng: np.random.Generator,
    covariance_type: str = "full",
    max_iter: int = 100,
    tol: float = 1e-3,
    reg_covar: float = 1e-6,
) -> GaussianMixture:
    """EM for a ``components``-Gaussian mixture over the rows of ``data``, initialised by k-means.

    Stops when the mean log-likelihood per sample improves by less than ``tol``, or after ``max_iter``
    iterations. ``reg_covar`` on the diagonal keeps covariances positive definite when points coincide
    (a task parameter with few distinct values).
    """
    data = np.atleast_2d(np.asarray(data, dtype=np.float64))
    n = data.shape[0]
    if covariance_type not in COVARIANCE_TYPES:
        raise InvalidArgumentError(f"covariance_type must be one of {COVARIANCE_TYPES}, got {covariance_type!r}")
    if not 1 <= components <= n:
        raise InvalidArgumentError(f"components must lie in [1, {n}] (the number of samples), got {components}")
    if not np.isfinite(data).all():
        raise InvalidArgumentError("fit_gaussian_mixture: data contain NaN or inf")
    responsibilities = np.eye(components)[_kmeans_labels(data, components, rng)]
    weights, means, covariances = _maximisation(data, responsibilities, None, covariance_type, reg_covar)
    previous = -np.inf
    log_likelihood = -np.inf
    converged = False
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        weighted = _component_log_density(data, means, covariances) + np.log(weights)
        per_sample = _logsumexp(weighted, axis=1)
        log_likelihood = float(per_sample.sum())
        responsibilities = np.exp(weighted - per_sample[:, None])
        if abs(log_likelihood / n - previous) < tol:
            converged = True
            break
        previous = log_likelihood / n
        weights, means, covariances = _maximisation(data, responsibilities, means, covariance_type, reg_covar)
    return GaussianMixture(
        weights=weights,
        means=means,
        covariances=covariances,
        covariance_type=covariance_type,
        log_likelihood=log_likelihood,
        n_samples=n,
        iterations=iterations,
        converged=converged,
    )


def fit_by_aic(
    data: np.ndarray,
    candidates: Iterable[int],
    rng: np.random.Generator,
    **fit_options: Any,
) -> tuple[GaussianMixture, dict[int, float]]:
    """The mixture with the lowest AIC among ``candidates`` component counts, and every candidate's AIC.

    Counts above the number of samples are skipped; ties go to the fewer components.
    """
    data = np.atleast_2d(np.asarray(data, dtype=np.float64))
    ks = sorted({int(k) for k in candidates if 1 <= int(k) <= data.shape[0]})
    if not ks:
        raise InvalidArgumentError(f"fit_by_aic: no candidate component count fits {data.shape[0]} samples")
    best: GaussianMixture | None = None
    scores: dict[int, float] = {}
    for k in ks:
        mixture = fit_gaussian_mixture(data, k, rng, **fit_options)
        scores[k] = mixture.aic()
        if best is None or scores[k] < best.aic():
            best = mixture
    assert best is not None
    return best, scores


class AICMixtureFitter:
    """Refits a mixture by AIC over ``candidates`` component counts and keeps the latest fit as its state."""

    def __init__(
        self,
        candidates: Iterable[int],
        covariance_type: str = "full",
        reg_covar: float = 1e-6,
        max_iter: int = 100,
        tol: float = 1e-3,
    ):
        self.candidates = sorted({int(k) for k in candidates})
        if not self.candidates or self.candidates[0] < 1:
            raise ConfigError(f"candidates must be component counts >= 1, got {self.candidates}")
        if covariance_type not in COVARIANCE_TYPES:
            raise ConfigError(f"covariance_type must be one of {COVARIANCE_TYPES}, got {covariance_type!r}")
        self.fit_options: dict[str, Any] = {
            "covariance_type": covariance_type,
            "reg_covar": float(reg_covar),
            "max_iter": int(max_iter),
            "tol": float(tol),
        }
        self.mixture: GaussianMixture | None = None
        self.fits = 0
        self.last_aic: dict[str, float] = {}  # candidate count (as text: state keys are strings) -> AIC

    def fit(self, data: np.ndarray, rng: np.random.Generator) -> GaussianMixture:
        self.mixture, scores = fit_by_aic(data, self.candidates, rng, **self.fit_options)
        self.last_aic = {str(k): float(v) for k, v in scores.items()}
        self.fits += 1
        return self.mixture

    def state_dict(self) -> dict[str, Any]:
        return {
            "mixture": None if self.mixture is None else self.mixture.state_dict(),
            "fits": self.fits,
            "last_aic": dict(self.last_aic),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.mixture = None if state["mixture"] is None else GaussianMixture.from_state(state["mixture"])
        self.fits = int(state["fits"])
        self.last_aic = {str(k): float(v) for k, v in state["last_aic"].items()}
