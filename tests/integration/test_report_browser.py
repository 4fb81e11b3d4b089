"""The HTML report in a real browser: headless Chromium (Debian's package) loads the file offline and
takes a screenshot, in which the charts' colours must appear where the report has data, and not where it
has none."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from collections import Counter
from pathlib import Path

import pytest
from tests.fixtures import report_cases

from maintenance_operator.render import html, svg

pytestmark = pytest.mark.integration


def rgb(colour: str) -> tuple[int, ...]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


BLUE = rgb(svg.PALETTE[0])  # first series: overall
GREEN, AMBER, RED = (rgb(svg.OUTCOME_COLOURS[k]) for k in ("succeeded", "rolled back", "failed"))


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def pixels(png: bytes) -> Counter[tuple[int, ...]]:
    """Colour histogram of an 8-bit RGB(A), non-interlaced PNG (what Chromium writes)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, data, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        chunk = png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            assert depth == 8 and interlace == 0 and colour in (2, 6)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            data += chunk
        pos += 12 + length
    raw, stride = zlib.decompress(data), width * channels
    prev, counts = bytearray(stride), Counter[tuple[int, ...]]()
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + prev[i]) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + prev[i]) // 2) & 0xFF
            elif kind == 4:
                c = prev[i - channels] if i >= channels else 0
                line[i] = (line[i] + _paeth(a, prev[i], c)) & 0xFF
        counts.update(tuple(line[i : i + 3]) for i in range(0, stride, channels))
        prev = line
    return counts


def screenshot(page: str, tmp_path: Path) -> Counter[tuple[int, ...]]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "install Debian's chromium package: apt-get install chromium"
    source, shot = tmp_path / "report.html", tmp_path / "shot.png"
    source.write_text(page)
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=800,1400",
            f"--screenshot={shot}",
            source.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    return pixels(shot.read_bytes())


def test_charts_are_drawn(tmp_path: Path) -> None:
    counts = screenshot(html.render("weekly", report_cases.full()), tmp_path)
    bar = 20 * 40  # a bar is 20 px high; each outcome here is at least ~40 px wide
    assert counts[GREEN] > 3 * bar  # succeeded bars, on-time response bars, the core line
    assert counts[AMBER] > bar  # the rolled-back part of RolloutRestart
    assert counts[RED] > bar  # the failed part of Scale (and the dashed threshold)
    assert counts[BLUE] > 50  # the overall score line


def test_empty_report_draws_no_chart(tmp_path: Path) -> None:
    counts = screenshot(html.render("weekly", report_cases.empty()), tmp_path)
    assert counts[AMBER] == counts[RED] == counts[BLUE] == 0
    assert sum(counts.values()) == 800 * 1400  # the page still rendered
