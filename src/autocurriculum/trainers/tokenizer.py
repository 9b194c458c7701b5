"""Character-level tokenizer for the embedded testbed's string tasks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from autocurriculum.core.errors import ConfigError, InvalidArgumentError

PAD_ID = 0
EOS_ID = 1
_NUM_SPECIAL = 2  # ids 0 and 1 are reserved, characters start at 2


class CharTokenizer:
    """Maps each character of a fixed alphabet to one id; pad=0 and eos=1 are reserved.

    The alphabet is stored in a fixed order so a checkpoint reloads with identical ids.
    """

    pad_id: int = PAD_ID
    eos_id: int = EOS_ID

    def __init__(self, alphabet: str | Sequence[str]) -> None:
        chars = list(alphabet)
        if not chars:
            raise ConfigError("CharTokenizer: the alphabet is empty")
        for i, ch in enumerate(chars):
            if not isinstance(ch, str) or len(ch) != 1:
                raise ConfigError(f"CharTokenizer: alphabet entry {i} is {ch!r}, expected a single character")
        if len(set(chars)) != len(chars):
            dupes = sorted({c for c in chars if chars.count(c) > 1})
            raise ConfigError(f"CharTokenizer: duplicate characters in alphabet: {dupes!r}")
        self.alphabet: str = "".join(chars)
        self._to_id = {ch: i + _NUM_SPECIAL for i, ch in enumerate(chars)}

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> CharTokenizer:
        """Build the alphabet from every character in ``texts``, sorted so the result is deterministic."""
        chars: set[str] = set()
        for text in texts:
            chars.update(text)
        return cls("".join(sorted(chars)))

    @property
    def vocab_size(self) -> int:
        return len(self.alphabet) + _NUM_SPECIAL

    def encode(self, text: str) -> list[int]:
        ids = []
        for pos, ch in enumerate(text):
            token = self._to_id.get(ch)
            if token is None:
                raise InvalidArgumentError(
                    f"CharTokenizer: unknown character {ch!r} at position {pos} in {text!r}; "
                    f"alphabet is {self.alphabet!r}"
                )
            ids.append(token)
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        """Characters up to the first eos; pad ids are skipped."""
        out = []
        for token in ids:
            token = int(token)
            if token == EOS_ID:
                break
            if token == PAD_ID:
                continue
            index = token - _NUM_SPECIAL
            if not 0 <= index < len(self.alphabet):
                raise InvalidArgumentError(
                    f"CharTokenizer: id {token} is outside the vocabulary of size {self.vocab_size}"
                )
            out.append(self.alphabet[index])
        return "".join(out)

    def state_dict(self) -> dict[str, Any]:
        return {"alphabet": self.alphabet}

    @classmethod
    def from_state_dict(cls, state: Mapping[str, Any]) -> CharTokenizer:
        if "alphabet" not in state:
            raise InvalidArgumentError("CharTokenizer.from_state_dict: missing key 'alphabet'")
        return cls(state["alphabet"])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CharTokenizer) and other.alphabet == self.alphabet

    def __hash__(self) -> int:
        return hash(self.alphabet)

    def __repr__(self) -> str:
        return f"CharTokenizer(alphabet={self.alphabet!r})"
