"""The teacher's head: a linear or one-hidden-layer MLP whose sigmoid output is scaled to the target's range.

Goldilocks' teacher is ``0.5 * sigmoid(w . features)`` (the range of sqrt(p(1-p)));
PCL's value model predicts p in [0, 1]. Training runs in PyTorch (``TorchHeadLearner``,
MSE loss, Adam); selection evaluates the same function from an immutable NumPy
snapshot of the weights (``predict``), so scoring candidates never touches tensors
that a background trainer is updating. Torch is imported only when first used.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from autocurriculum.core.errors import MissingDependencyError

if TYPE_CHECKING:
    import torch

Weights = dict[str, np.ndarray]


@dataclass(frozen=True)
class HeadSpec:
    dim: int  # input feature width
    hidden: int = 0  # 0: linear head; > 0: one ReLU hidden layer of this width
    low: float = 0.0  # output range
    high: float = 1.0

    @property
    def layers(self) -> list[tuple[int, int]]:
        """(fan_out, fan_in) of each linear layer."""
        return [(self.hidden, self.dim), (1, self.hidden)] if self.hidden > 0 else [(1, self.dim)]


def init_weights(spec: HeadSpec, seed: int) -> Weights:
    """PyTorch-style uniform init from a NumPy generator (independent of torch's global RNG).

    The last layer starts near zero, so the first predictions sit at the middle of the
    range instead of at an arbitrary extreme.
    """
    rng = np.random.default_rng([seed, 0x7EAC])
    weights: Weights = {}
    for i, (fan_out, fan_in) in enumerate(spec.layers):
        bound = 1.0 / np.sqrt(fan_in)
        scale = 0.01 if i == len(spec.layers) - 1 else 1.0
        weights[f"w{i}"] = (scale * rng.uniform(-bound, bound, size=(fan_out, fan_in))).astype(np.float32)
        weights[f"b{i}"] = (scale * rng.uniform(-bound, bound, size=fan_out)).astype(np.float32)
    return weights


def predict(spec: HeadSpec, weights: Weights, features: np.ndarray, threads: int = 1) -> np.ndarray:
    """The head's output for each row of ``features``, from a weight snapshot (no shared tensors).

    Runs in torch with ``threads`` intra-op threads: NumPy's BLAS would use every core for this
    small product and, on a busy machine, spend 10x longer waiting for them than computing.
    """
    import torch

    previous = torch.get_num_threads()
    if previous != threads:
        torch.set_num_threads(threads)
    try:
        with torch.no_grad():
            h = torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32))
            n_layers = len(spec.layers)
            for i in range(n_layers):
                h = torch.nn.functional.linear(
                    h, torch.from_numpy(weights[f"w{i}"]), torch.from_numpy(weights[f"b{i}"])
                )
                if i < n_layers - 1:
                    h = torch.relu(h)
            z = h[:, 0].numpy().astype(np.float64)
    finally:
        if previous != threads:
            torch.set_num_threads(previous)
    return spec.low + (spec.high - spec.low) / (1.0 + np.exp(-z))


def _to_numpy(value: Any) -> Any:
    import torch

    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy().copy()
    if isinstance(value, dict):
        return {k: _to_numpy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_numpy(v) for v in value]
    return value


def _optimizer_state_to_torch(state: dict[str, Any]) -> dict[str, Any]:
    """Inverse of ``_to_numpy`` for an optimizer state, also after a JSON round trip.

    JSON turns the per-parameter keys into strings and tuples into lists; torch matches
    moments to parameters by integer key, so string keys would silently drop Adam's moments.
    """
    import torch

    per_param = {
        int(key): {name: torch.tensor(np.asarray(value)) for name, value in moments.items()}
        for key, moments in state["state"].items()
    }
    groups = []
    for group in state["param_groups"]:
        group = dict(group)
        group["params"] = [int(p) for p in group["params"]]
        if isinstance(group.get("betas"), list):
            group["betas"] = tuple(group["betas"])
        groups.append(group)
    return {"state": per_param, "param_groups": groups}


_NO_TORCH = (
    "goldilocks and pcl train their teacher with PyTorch, which is not installed: "
    "pip install 'autocurriculum[teachers]' (torch alone is enough; the CPU wheel will do)"
)


def require_torch_installed() -> None:
    """A ``MissingDependencyError`` saying which extra brings torch, checked without importing it (slow)."""
    if importlib.util.find_spec("torch") is None:
        raise MissingDependencyError(_NO_TORCH)


def require_torch() -> Any:
    """The torch module, or a ``MissingDependencyError`` saying which extra brings it."""
    try:
        import torch
    except ImportError:
        raise MissingDependencyError(_NO_TORCH) from None
    return torch


class TorchHeadLearner:
    """The trainable copy of the head: PyTorch module + Adam, fitted with MSE."""

    def __init__(self, spec: HeadSpec, seed: int, lr: float = 1e-2, weight_decay: float = 0.0, threads: int = 1):
        torch = require_torch()  # lazy: only strategies with a teacher pay for torch, and only when they build one
        self.spec = spec
        self.threads = int(threads)
        layers: list[torch.nn.Module] = []
        for i, (fan_out, fan_in) in enumerate(spec.layers):
            if i > 0:
                layers.append(torch.nn.ReLU())
            layers.append(torch.nn.Linear(fan_in, fan_out))
        self.module = torch.nn.Sequential(*layers)
        self.linears = [m for m in self.module if isinstance(m, torch.nn.Linear)]
        self.set_weights(init_weights(spec, seed))
        self.optimizer = torch.optim.Adam(self.module.parameters(), lr=lr, weight_decay=weight_decay)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        import torch

        return self.spec.low + (self.spec.high - self.spec.low) * torch.sigmoid(self.module(x)[:, 0])

    def train_step(self, features: np.ndarray, targets: np.ndarray) -> float:
        """One Adam step on the MSE between predictions and ``targets``; returns the loss."""
        import torch

        x = torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32))
        y = torch.from_numpy(np.ascontiguousarray(targets, dtype=np.float32))
        # Intra-op threads are per calling thread in torch's OpenMP backend: a tiny head gains nothing from
        # more threads and would fight the student for cores (measured 3 ms vs 120 ms per step on a busy
        # 2-core machine), so train with ``threads`` and restore the caller's setting.
        previous = torch.get_num_threads()
        if previous != self.threads:
            torch.set_num_threads(self.threads)
        try:
            loss = torch.nn.functional.mse_loss(self.forward(x), y)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
        finally:
            if previous != self.threads:
                torch.set_num_threads(previous)
        return float(loss.detach())

    def get_weights(self) -> Weights:
        weights: Weights = {}
        for i, linear in enumerate(self.linears):
            weights[f"w{i}"] = linear.weight.detach().numpy().copy()
            weights[f"b{i}"] = linear.bias.detach().numpy().copy()
        return weights

    def set_weights(self, weights: Weights) -> None:
        import torch

        with torch.no_grad():
            for i, linear in enumerate(self.linears):
                # np.array copies: weights that crossed a process boundary may be read-only
                linear.weight.copy_(torch.from_numpy(np.array(weights[f"w{i}"], dtype=np.float32)))
                linear.bias.copy_(torch.from_numpy(np.array(weights[f"b{i}"], dtype=np.float32)))

    def state_dict(self) -> dict[str, Any]:
        return {"weights": self.get_weights(), "optimizer": _to_numpy(self.optimizer.state_dict())}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.set_weights(state["weights"])
        self.optimizer.load_state_dict(_optimizer_state_to_torch(state["optimizer"]))
