from __future__ import annotations

import re

from maintenance_operator.render import svg


def coords(chart: str, attr: str) -> list[float]:
    return [float(v) for v in re.findall(rf'{attr}="([0-9.]+)"', chart)]


def test_line_chart_scales_and_clamps_to_the_range() -> None:
    chart = svg.line_chart({"core": [10.0, 1.0, 99.0]}, title="t", low=1.0, high=10.0, mark=7.0)
    [points] = re.findall(r'points="([^"]+)"', chart)
    ys = [float(p.split(",")[1]) for p in points.split()]
    top, bottom = svg.PAD, svg.HEIGHT - svg.PAD
    assert ys == [top, bottom, top]  # 99 is clamped to the top


def test_bars_past_their_target_are_red() -> None:
    chart = svg.against_target(
        [("critical", 1200.0, 900.0), ("high", 600.0, 3600.0), ("low", None, 60.0)], title="t"
    )
    fills = re.findall(r'class="bar"[^>]*fill="(#[0-9a-f]+)"', chart)
    assert fills == ["#dc2626", "#16a34a"]
    assert chart.count('class="target"') == 3


def test_stacked_bars_are_proportional() -> None:
    chart = svg.stacked_bars(
        [("Scale", {"succeeded": 3, "failed": 1}), ("Restart", {"succeeded": 2})], title="t"
    )
    widths = [float(w) for w in re.findall(r'class="bar"[^>]*width="([0-9.]+)"', chart)]
    full = svg.WIDTH - 2 * svg.PAD - 120
    assert widths == [full * 3 / 4, full / 4, full * 2 / 4]
