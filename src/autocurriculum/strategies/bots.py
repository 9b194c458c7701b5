"""BOTS: Bayesian online task selection with explicit and implicit evidence.

Reference: Shen et al., "BOTS: A Unified Framework for Bayesian Online Task Selection in LLM Reinforcement
Finetuning" (arXiv 2510.26374); code ``modelscope/Trinity-RFT`` (``trinity/buffer/selector/diff_estimator.py``,
``selector.py``; defaults from ``examples/bots/bots.yaml``).

Every task keeps a Beta posterior over its pass rate, updated at every step for *all* tasks
(``core.beta_evidence.ImplicitEvidenceBeta``):

    alpha <- (1 - lam) * alpha + lam * 1 + (1 - rho) * s + rho * p_tilde * m
    beta  <- (1 - lam) * beta  + lam * 1 + (1 - rho) * f + rho * (1 - p_tilde) * m

``s``/``f`` are the successes/failures observed this step (zero for tasks not rolled out), ``lam`` weights the
Beta(1, 1) prior, ``rho`` the implicit evidence ``p_tilde`` worth ``m`` pseudo-rollouts. Tasks rolled out this
step use their observed pass rate as ``p_tilde`` (as the BOTS code does; when ``m`` equals the group size they
thus gain exactly their observed counts). For the others:

* ``reference_knobs = [f0, f1]`` (the paper): two offline pass rates per task, from a weaker and a stronger
  reference model. ``p_tilde = clip(f0 + c * (f1 - f0), 0, 1)``, where the capability coefficient ``c`` is an
  EMA (weight 0.9 on the past) of ``(mean observed p - mean f0) / (mean f1 - mean f0)`` over the batch's tasks.
  A batch whose reference rates coincide on average (``mean f1 = mean f0``) leaves ``c`` unchanged (the code
  adds 1e-6 to that denominator instead, which there sends ``c`` to about 1e6 times the gap).
* ``reference_knobs = []`` and ``fallback_evidence = "category"`` (**ours, not the paper's**): a pool without
  reference pass rates (our testbed has none) uses the running pass rate of the task's category ((family,
  level) by default), a discounted mean of the outcomes observed in that category
  (``core.beta_evidence.DiscountedPassRates``). Categories never observed give no implicit evidence.
* ``fallback_evidence = "none"``: no implicit evidence; BOTS then reduces to MoPPS-style Thompson sampling with
  forgetting toward the prior.

Selection draws ``p_hat ~ Beta(alpha, beta)`` for every task (or takes the posterior mean when
``thompson = false``) and scores it ``-|p* - p_hat|``: ``temperature = 0`` takes the top-B, ``temperature > 0``
samples B without replacement from ``softmax(score / temperature)`` (a Gumbel top-k draw, the same law as the
code's ``torch.multinomial(..., replacement=False)``). Both update and selection are O(pool) per step,
vectorised, as in the paper. Defaults (``bots.yaml``): m = 16, lam = 0.1, rho = 0.1, p* = 0.5, tau = 0.
``adaptive_rho`` reproduces the code's option of halving rho whenever the implicit estimates of the batch's
tasks miss their observed pass rates by a mean absolute error of 0.25 or more.
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
from autocurriculum.core.beta_evidence import DiscountedPassRates, ImplicitEvidenceBeta
from autocurriculum.core.categories import category_of_rows
from autocurriculum.core.outcome import successes_and_trials

FALLBACK_EVIDENCE = ("category", "none")


@dataclass
class BOTSConfig(CurriculumConfig):
    target: float = option(0.5, "Target pass rate p* the selection aims for (BOTS target_reward: 0.5).")
    pseudo_count: float = option(16.0, "Pseudo-rollouts m that one implicit pass-rate estimate is worth (BOTS: 16).")
    prior_weight: float = option(
        0.1, "lambda: weight of the Beta(1, 1) prior in each update, i.e. the forgetting rate (BOTS: 0.1)."
    )
    evidence_weight: float = option(0.1, "rho: weight of implicit evidence against observed outcomes (BOTS: 0.1).")
    temperature: float = option(
        0.0, "tau: 0 takes the top-B scores; > 0 samples softmax(score / tau) without replacement (BOTS: 0)."
    )
    thompson: bool = option(True, "Score a Thompson draw from each posterior (BOTS do_sample); false: the mean.")
    reference_knobs: list[str] = option(
        [],
        "Two task knobs holding offline pass rates of a weaker and a stronger reference model (the paper's "
        "implicit evidence); [] uses fallback_evidence instead.",
    )
    capability_discount: float = option(
        0.9, "EMA weight on the past of the capability coefficient c (BOTS cap_coef_update_discount: 0.9)."
    )
    fallback_evidence: str = option(
        "category",
        "Implicit evidence without reference_knobs: 'category' (ours: the running pass rate of the task's "
        "category) or 'none'.",
    )
    category_discount: float = option(
        0.9, "Per-step discount of the category running pass rate (ours; 0.9 mirrors BOTS' EMA of c)."
    )
    by_level: bool = option(True, "Categories for the fallback are (family, level) pairs; false uses the family.")
    adaptive_rho: bool = option(False, "Halve rho when the batch's implicit estimates have MAE >= 0.25 (BOTS option).")

    def validate(self) -> None:
        super().validate()
        require(0.0 <= self.target <= 1.0, "target", f"must lie in [0, 1], got {self.target}")
        require(self.pseudo_count >= 0, "pseudo_count", f"must be >= 0, got {self.pseudo_count}")
        require(0.0 <= self.prior_weight <= 1.0, "prior_weight", f"must lie in [0, 1], got {self.prior_weight}")
        require(
            0.0 <= self.evidence_weight <= 1.0, "evidence_weight", f"must lie in [0, 1], got {self.evidence_weight}"
        )
        require(self.temperature >= 0, "temperature", f"must be >= 0, got {self.temperature}")
        require(
            len(self.reference_knobs) in (0, 2) and len(set(self.reference_knobs)) == len(self.reference_knobs),
            "reference_knobs",
            f"must name two distinct knobs [weaker, stronger] or none, got {self.reference_knobs}",
        )
        require(
            0.0 <= self.capability_discount < 1.0,
            "capability_discount",
            f"must lie in [0, 1), got {self.capability_discount}",
        )
        require(
            self.fallback_evidence in FALLBACK_EVIDENCE,
            "fallback_evidence",
            f"must be one of {', '.join(FALLBACK_EVIDENCE)}, got {self.fallback_evidence!r}",
        )
        require(
            0.0 < self.category_discount <= 1.0,
            "category_discount",
            f"must lie in (0, 1], got {self.category_discount}",
        )


class ReferenceInterpolation:
    """BOTS' implicit evidence: p_tilde = clip(f0 + c * (f1 - f0), 0, 1), c tracked by an EMA over batches."""

    def __init__(self, weaker: np.ndarray, stronger: np.ndarray, discount: float):
        self.weaker = np.asarray(weaker, dtype=np.float64)
        self.stronger = np.asarray(stronger, dtype=np.float64)
        self.discount = float(discount)
        self.capability: float | None = None  # c; None until the first batch with a usable estimate

    def update(self, rows: np.ndarray, pass_rates: np.ndarray) -> None:
        known = ~(np.isnan(self.weaker[rows]) | np.isnan(self.stronger[rows]))
        if not known.any():
            return
        f0, f1 = self.weaker[rows][known].mean(), self.stronger[rows][known].mean()
        if abs(f1 - f0) < 1e-6:  # the batch cannot locate the student between the references
            return
        estimate = float((pass_rates[known].mean() - f0) / (f1 - f0))
        if self.capability is None:
            self.capability = estimate
        else:
            self.capability = self.discount * self.capability + (1 - self.discount) * estimate

    def rates(self) -> np.ndarray:
        if self.capability is None:
            return np.full(self.weaker.size, np.nan)
        return np.clip(self.weaker + self.capability * (self.stronger - self.weaker), 0.0, 1.0)

    def state_dict(self) -> dict[str, Any]:
        return {"capability": self.capability}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        capability = state["capability"]
        self.capability = None if capability is None else float(capability)


class CategoryEvidence:
    """Ours: p_tilde = the running pass rate of the task's category (NaN until the category is observed)."""

    def __init__(self, codes: np.ndarray, n_categories: int, discount: float):
        self.codes = codes
        self.category_rates = DiscountedPassRates(n_categories, discount)

    def update(self, rows: np.ndarray, successes: np.ndarray, trials: np.ndarray) -> None:
        self.category_rates.update(self.codes[rows], successes, trials)

    def rates(self) -> np.ndarray:
        return self.category_rates.rates()[self.codes]

    def state_dict(self) -> dict[str, Any]:
        return self.category_rates.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.category_rates.load_state_dict(state)


@register_strategy("bots")
class BOTSCurriculum(Curriculum):
    config_class = BOTSConfig
    config: BOTSConfig

    def __init__(self, pool, config: BOTSConfig | None = None):
        super().__init__(pool, config)
        cfg = self.config
        self.posterior = ImplicitEvidenceBeta(len(pool), cfg.pseudo_count, cfg.prior_weight, cfg.evidence_weight)
        self.reference: ReferenceInterpolation | None = None
        self.categories: CategoryEvidence | None = None
        if cfg.reference_knobs:
            weaker, stronger = (self._reference_knob(name) for name in cfg.reference_knobs)
            self.reference = ReferenceInterpolation(weaker, stronger, cfg.capability_discount)
        elif cfg.fallback_evidence == "category":
            try:
                codes, names = category_of_rows(pool, cfg.by_level)
            except ConfigError as exc:
                raise ConfigError(
                    f"strategy {self.name!r}: fallback_evidence='category' needs task categories: {exc}; "
                    "set fallback_evidence='none' or give reference_knobs"
                ) from None
            self.categories = CategoryEvidence(codes, len(names), cfg.category_discount)

    def _reference_knob(self, name: str) -> np.ndarray:
        available = list(getattr(self.pool, "knob_names", []))
        if name not in available:
            raise ConfigError(
                f"strategy {self.name!r}: reference_knobs names {name!r}, which this pool does not have "
                f"(available knobs: {', '.join(available) or 'none'}); name two knobs holding reference pass "
                "rates, or set reference_knobs=[] for the category-based fallback"
            )
        values = np.asarray(self.pool.knob(name), dtype=np.float64)  # type: ignore[attr-defined]
        finite = values[~np.isnan(values)]
        if finite.size and (finite.min() < 0.0 or finite.max() > 1.0):
            raise ConfigError(
                f"strategy {self.name!r}: reference_knobs {name!r} must hold pass rates in [0, 1], "
                f"got values in [{finite.min()}, {finite.max()}]"
            )
        return values

    def scores(self) -> np.ndarray:
        """-|p* - p_hat| for every task, p_hat a Thompson draw (or the posterior mean)."""
        if self.config.thompson:
            estimate = self.posterior.sample(self.rng)
        else:
            estimate = self.posterior.posterior_mean()
        return -np.abs(self.config.target - estimate)

    def _select_rows(self, n: int) -> np.ndarray:
        keys = self.scores()
        if self.config.temperature > 0:
            keys = keys / self.config.temperature + self.rng.gumbel(size=keys.size)
        copies, rest = divmod(n, keys.size)  # more than the pool: every task `copies` times, then the best
        best = np.argpartition(-keys, rest - 1)[:rest] if rest else np.empty(0, dtype=np.int64)
        return np.concatenate([np.tile(np.arange(keys.size), copies), best])

    def _observe(self, rows: np.ndarray, outcomes: list[GroupOutcome]) -> None:
        successes, trials = successes_and_trials(outcomes)
        if self.reference is not None:
            pass_rates = successes / trials
            self.reference.update(rows, pass_rates)
            implicit = self.reference.rates()
        elif self.categories is not None:
            self.categories.update(rows, successes, trials)
            implicit = self.categories.rates()
        else:
            implicit = np.full(len(self.pool), np.nan)
        if self.config.adaptive_rho:
            unique_rows, _, _, observed = self.posterior.observed_rates(rows, successes, trials)
            predicted = implicit[unique_rows]
            known = ~np.isnan(predicted)
            if known.any() and np.abs(predicted[known] - observed[known]).mean() >= 0.25:
                self.posterior.evidence_weight *= 0.5
        self.posterior.update(rows, successes, trials, implicit)

    def _stateful_parts(self) -> dict[str, Any]:
        parts: dict[str, Any] = {"posterior": self.posterior}
        if self.reference is not None:
            parts["reference"] = self.reference
        if self.categories is not None:
            parts["categories"] = self.categories
        return parts
