"""Vectorised geometry work spread over the machine's cores.

Shapely 2 releases the GIL while GEOS computes, so threads sharing one
process run its array functions in parallel without copying geometries
between processes. Results are the same as one call over the whole array:
each element is computed independently, in the same order.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

__all__ = ["map_threads", "threaded", "workers"]

#: Below this many elements a call is not split: thread start-up would cost more.
MIN_CHUNK = 512


def workers() -> int:
    """How many threads to use: the CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def map_threads(func: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
    """``[func(item) for item in items]``, computed in threads, in order."""
    items = list(items)
    if workers() == 1 or len(items) < 2:
        return [func(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers()) as pool:
        return list(pool.map(func, items))


def threaded(func: Callable[..., np.ndarray], *args: Any, **kwargs: Any) -> np.ndarray:
    """``func(*args, **kwargs)`` for an element-wise shapely function, in threads.

    Every array argument as long as the first is split into the same chunks;
    scalars and other arguments (a mask geometry, a distance) are passed to
    each chunk as they are.

    Examples
    --------
    >>> import shapely
    >>> points = shapely.points(np.arange(2000.0), np.zeros(2000))
    >>> discs = threaded(shapely.buffer, points, 1.0, quad_segs=4)
    >>> bool((shapely.area(discs) > 3).all())
    True
    """
    first = np.asarray(args[0])
    n = len(first)
    n_chunks = min(workers() * 2, n // MIN_CHUNK)
    if n_chunks < 2:
        return func(*args, **kwargs)
    bounds = np.linspace(0, n, n_chunks + 1).astype(int)

    def split(arg: Any, lo: int, hi: int) -> Any:
        if isinstance(arg, np.ndarray) and arg.ndim >= 1 and len(arg) == n:
            return arg[lo:hi]
        return arg

    def run(k: int) -> np.ndarray:
        lo, hi = bounds[k], bounds[k + 1]
        chunk_args = [split(np.asarray(a) if a is args[0] else a, lo, hi) for a in args]
        chunk_kwargs = {key: split(v, lo, hi) for key, v in kwargs.items()}
        return func(*chunk_args, **chunk_kwargs)

    return np.concatenate(map_threads(run, range(n_chunks)))
