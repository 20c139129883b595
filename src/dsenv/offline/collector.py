"""Pausing Python's cyclic garbage collector around an offline run."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """The SDK's modules are a very large object graph, and each full collection while they
    load or while the program runs walks all of it (tens of milliseconds each, several per
    plan). A capture is short and leaves little garbage, so the collector waits until the
    capture is over."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
