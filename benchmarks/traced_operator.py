"""The operator with a heap profile on demand: on SIGUSR1, write where the memory is to $MO_TRACEMALLOC_OUT.

Run as ``python -m benchmarks.traced_operator run ...``. The dump always has the process RSS, a census of
live Python objects by type (count and shallow size, from the garbage collector: free to keep running)
and the asyncio tasks by coroutine. With $MO_TRACEMALLOC_FRAMES > 0 (default 1) tracemalloc also runs,
from the moment the operator's modules are imported (their ~66 MB is measured by
benchmarks/operator_rss.py), and the top allocation sites are added; more frames add tracebacks, slowly.
"""

from __future__ import annotations

import asyncio
import collections
import gc
import os
import signal
import sys
import tracemalloc
from pathlib import Path
from types import FrameType

from maintenance_operator.__main__ import main

LOOP: list[asyncio.AbstractEventLoop] = []


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _census() -> list[str]:
    counts: collections.Counter[str] = collections.Counter()
    sizes: collections.Counter[str] = collections.Counter()
    for obj in gc.get_objects():
        kind = type(obj)
        name = f"{kind.__module__!s}.{kind.__qualname__!s}"
        counts[name] += 1
        sizes[name] += sys.getsizeof(obj)
    lines = ["", "live objects tracked by gc, by shallow size (type, count, MiB):"]
    lines += [f"{name} {counts[name]} {size / 2**20:.1f}" for name, size in sizes.most_common(25)]
    tasks = asyncio.all_tasks(LOOP[0]) if LOOP else set()
    by_coro = collections.Counter(getattr(t.get_coro(), "__qualname__", "?") for t in tasks)
    lines += ["", f"asyncio tasks: {len(tasks)}"]
    lines += [f"{name} {n}" for name, n in by_coro.most_common(15)]
    return lines


def _tracemalloc() -> list[str]:
    if not tracemalloc.is_tracing():
        return []
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [
            tracemalloc.Filter(False, tracemalloc.__file__),
            tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
        ]
    )
    current, peak = tracemalloc.get_traced_memory()
    lines = ["", f"traced since import: current {current / 2**20:.1f} MiB, peak {peak / 2**20:.1f} MiB"]
    lines += ["", "by file:", *[str(s) for s in snapshot.statistics("filename")[:25]]]
    lines += ["", "by line:", *[str(s) for s in snapshot.statistics("lineno")[:40]]]
    if tracemalloc.get_traceback_limit() > 1:
        lines += ["", "by traceback (innermost last):"]
        for stat in snapshot.statistics("traceback")[:15]:
            lines += ["", str(stat), *stat.traceback.format(limit=tracemalloc.get_traceback_limit())]
    return lines


def _dump(signum: int, frame: FrameType | None) -> None:
    try:
        lines = [f"process RSS {_rss_mb():.1f} MiB", *_census(), *_tracemalloc()]
    except Exception as exc:  # a profile must never stop the operator
        lines = [f"profile failed: {exc!r}"]
    out = Path(os.environ.get("MO_TRACEMALLOC_OUT", "tracemalloc.txt"))
    partial = out.with_suffix(".partial")
    partial.write_text("\n".join(lines) + "\n")
    partial.replace(out)  # the reader waits for the whole file


class _Policy(asyncio.DefaultEventLoopPolicy):
    def new_event_loop(self) -> asyncio.AbstractEventLoop:
        loop = super().new_event_loop()
        LOOP[:] = [loop]
        return loop


if __name__ == "__main__":
    import maintenance_operator.handlers  # noqa: F401  imported before tracing starts

    frames = int(os.environ.get("MO_TRACEMALLOC_FRAMES", "1"))
    if frames > 0 and not tracemalloc.is_tracing():
        tracemalloc.start(frames)
    asyncio.set_event_loop_policy(_Policy())
    signal.signal(signal.SIGUSR1, _dump)
    sys.exit(main(sys.argv[1:]))
