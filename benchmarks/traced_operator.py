"""The operator under tracemalloc: on SIGUSR1, write the top allocation sites to $MO_TRACEMALLOC_OUT.

Run as ``python -m benchmarks.traced_operator run ...``. Tracing starts once the operator's modules are
imported (their ~66 MB is measured by benchmarks/operator_rss.py), so the profile shows what running
costs; $MO_TRACEMALLOC_FRAMES frames are kept per allocation (default 1; more adds tracebacks, slowly)."""

from __future__ import annotations

import os
import signal
import sys
import tracemalloc
from pathlib import Path
from types import FrameType

from maintenance_operator.__main__ import main


def _dump(signum: int, frame: FrameType | None) -> None:
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [
            tracemalloc.Filter(False, tracemalloc.__file__),
            tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
        ]
    )
    current, peak = tracemalloc.get_traced_memory()
    rss = next(
        (
            int(line.split()[1]) / 1024
            for line in Path("/proc/self/status").read_text().splitlines()
            if line.startswith("VmRSS:")
        ),
        0.0,
    )
    lines = [
        f"traced current {current / 2**20:.1f} MiB, peak {peak / 2**20:.1f} MiB; process RSS {rss:.1f} MiB",
        "",
        "by file:",
    ]
    lines += [str(s) for s in snapshot.statistics("filename")[:25]]
    lines += ["", "by line:"]
    lines += [str(s) for s in snapshot.statistics("lineno")[:40]]
    if tracemalloc.get_traceback_limit() > 1:
        lines += ["", "by traceback (innermost last):"]
        for stat in snapshot.statistics("traceback")[:15]:
            lines += ["", str(stat), *stat.traceback.format(limit=tracemalloc.get_traceback_limit())]
    out = Path(os.environ.get("MO_TRACEMALLOC_OUT", "tracemalloc.txt"))
    partial = out.with_suffix(".partial")
    partial.write_text("\n".join(lines) + "\n")
    partial.replace(out)  # the reader waits for the whole file


if __name__ == "__main__":
    import maintenance_operator.handlers  # noqa: F401  imported before tracing starts

    if not tracemalloc.is_tracing():
        tracemalloc.start(int(os.environ.get("MO_TRACEMALLOC_FRAMES", "1")))
    signal.signal(signal.SIGUSR1, _dump)
    sys.exit(main(sys.argv[1:]))
