"""Torch's intra-op thread count for one block of work, restored afterwards.

The count is a process-wide setting: library code that needs its own (a testbed run asked for with
``testbed.torch_threads``) sets it for the run only and gives the caller's setting back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run the block with ``count`` intra-op threads, then restore the caller's count (also on error)."""
    previous = torch.get_num_threads()
    if count != previous:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)
