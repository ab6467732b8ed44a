"""Work spread over the machine's cores.

Shapely 2 releases the GIL while GEOS computes, so threads sharing one
process run its array functions in parallel without copying geometries
between processes. Results are the same as one call over the whole array:
each element is computed independently, in the same order.

Work that holds the GIL (GDAL writing a file, pandas, Python loops) runs
beside the main process in a forked child (:func:`alongside`), which sees the
parent's data without pickling it.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import shapely

__all__ = [
    "ForkedCall",
    "alongside",
    "limit_malloc_arenas",
    "map_threads",
    "threaded",
    "workers",
]

#: Below this many units of work (coordinates of the geometries, or elements) a call
#: is not split: thread start-up would cost more.
MIN_CHUNK = 512


def workers() -> int:
    """How many threads to use: the CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


#: mallopt(3) parameter: how many arenas glibc's malloc may keep.
M_ARENA_MAX = -8


def limit_malloc_arenas(arenas: int | None = None) -> bool:
    """Let glibc's malloc keep at most ``arenas`` arenas (default: one per worker thread).

    glibc gives threads arenas of their own, up to eight per core, and memory
    freed in one arena serves only that arena: a run whose threads come and go
    (a pool per array call) holds on to much more than it uses, 170 MB of
    620 MB in the boundary markers at 1,000,000 points. Called by the command
    line before any thread starts. False where the C library is not glibc.
    """
    try:
        return bool(ctypes.CDLL(None).mallopt(M_ARENA_MAX, arenas or workers()))
    except (OSError, AttributeError):  # no mallopt: not glibc
        return False


def _work(values: np.ndarray) -> np.ndarray:
    """Cumulative work of an array's elements: a geometry's coordinates, anything else 1."""
    if values.dtype == object and len(values):
        try:
            # at least 1, so empty or missing geometries still count as an element
            return np.cumsum(np.maximum(shapely.get_num_coordinates(values), 1))
        except (TypeError, shapely.errors.GEOSException):
            pass  # not geometries
    return np.arange(1, len(values) + 1)


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
    work = _work(first)
    total = int(work[-1]) if n else 0
    n_chunks = min(workers() * 2, n, total // MIN_CHUNK)
    if n_chunks < 2:
        return func(*args, **kwargs)
    # chunks of equal work: a few massifs of thousands of vertices among small zones
    # would otherwise leave one thread with most of it
    bounds = np.unique(
        np.r_[0, np.searchsorted(work, total * np.arange(1, n_chunks) / n_chunks), n]
    )
    n_chunks = len(bounds) - 1

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


# --------------------------------------------------------------------------- processes


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (no orphan left writing)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the child finishes its work and exits
        pass


#: prctl(2) option: the signal a process gets when its parent thread dies.
PR_SET_PDEATHSIG = 1


def _run_forked(
    connection: Any, parent: int, niceness: int, func: Callable[..., Any], args: tuple
) -> None:
    _die_with_parent()
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
    if niceness:
        os.nice(niceness)
    try:
        func(*args)
        outcome: tuple[bool, BaseException | None] = (True, None)
    except BaseException as exc:  # handed to the parent, which re-raises it
        outcome = (False, exc)
    try:
        connection.send(outcome)
    except Exception as exc:  # an exception that cannot be pickled: its words
        connection.send((False, RuntimeError(f"{type(outcome[1]).__name__}: {outcome[1]}; {exc}")))
    finally:
        connection.close()


class ForkedCall:
    """``func(*args)`` running in a forked child process, started at once.

    The child shares the parent's memory as it was at the fork (copy on
    write), so large arguments are not pickled; only the outcome comes back.
    It is killed if the parent dies, so a killed run leaves no process
    writing behind it. A positive ``niceness`` lets the parent's own threads
    go first when both want the CPU (work that is only needed later).

    Examples
    --------
    >>> call = ForkedCall(sum, [1, 2])
    >>> call.wait()
    """

    def __init__(self, func: Callable[..., Any], *args: Any, niceness: int = 0) -> None:
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(
            # not a daemon, so what it runs may start processes of its own
            target=_run_forked,
            args=(send, os.getpid(), niceness, func, args),
        )
        self._process.start()
        send.close()

    def wait(self) -> None:
        """Wait for the child; raise what it raised."""
        try:
            ok, error = self._receive.recv()
        except EOFError:
            ok, error = False, None
        finally:
            self._receive.close()
            self._process.join()
        if error is not None:
            raise error
        if not ok:
            raise RuntimeError(f"the child process ended with status {self._process.exitcode}")

    def stop(self) -> None:
        """Kill the child and wait for it (the parent failed; its work is void)."""
        if self._process.is_alive():
            self._process.kill()
        self._process.join()
        self._receive.close()


def second_process() -> bool:
    """Whether work handed to another process (:func:`alongside`, forked writers) runs
    at the same time as this one's: only with a second CPU."""
    return workers() > 1


@contextlib.contextmanager
def alongside(func: Callable[..., Any], *args: Any) -> Iterator[None]:
    """Run ``func(*args)`` in a forked process while the ``with`` body runs here.

    On leaving, waits for it and raises what it raised; if the body raised
    first, the child is killed and the body's exception goes on. With one CPU
    ``func`` simply runs first, here (:func:`second_process`).
    """
    if not second_process():
        func(*args)
        yield
        return
    call = ForkedCall(func, *args)
    try:
        yield
    except BaseException:
        call.stop()
        raise
    call.wait()
