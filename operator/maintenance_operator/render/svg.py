"""Inline SVG charts: plain elements, escaped text, no script and nothing loaded from the network."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

PALETTE = ("#2563eb", "#16a34a", "#d97706", "#9333ea", "#dc2626", "#0891b2", "#4b5563")
OUTCOME_COLOURS = {"succeeded": "#16a34a", "rolled back": "#d97706", "failed": "#dc2626"}
WIDTH, HEIGHT, PAD = 640, 240, 40


def _svg(body: list[str], *, title: str, height: int = HEIGHT) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" aria-label="{escape(title)}"><title>{escape(title)}</title>'
        + "".join(body)
        + "</svg>"
    )


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = 11) -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}">{escape(text)}</text>'


def line_chart(
    series: Mapping[str, Sequence[float]], *, title: str, low: float, high: float, mark: float
) -> str:
    """One polyline per series over the same evenly spaced instants, a dashed line at `mark`."""
    plot_w, plot_h = WIDTH - 2 * PAD - 120, HEIGHT - 2 * PAD

    def y(v: float) -> float:
        return PAD + plot_h * (1 - (min(max(v, low), high) - low) / (high - low))

    body = [
        f'<rect x="{PAD}" y="{PAD}" width="{plot_w}" height="{plot_h}" fill="#f9fafb" stroke="#d1d5db"/>',
        f'<line class="threshold" x1="{PAD}" x2="{PAD + plot_w}" y1="{y(mark):.1f}" y2="{y(mark):.1f}" '
        'stroke="#dc2626" stroke-dasharray="4 3"/>',
        _text(PAD - 4, y(high) + 4, f"{high:g}", anchor="end"),
        _text(PAD - 4, y(low) + 4, f"{low:g}", anchor="end"),
        _text(PAD - 4, y(mark) + 4, f"{mark:g}", anchor="end"),
    ]
    for n, (name, values) in enumerate(series.items()):
        colour = PALETTE[n % len(PALETTE)]
        if values:
            step = plot_w / max(len(values) - 1, 1)
            points = " ".join(f"{PAD + i * step:.1f},{y(v):.1f}" for i, v in enumerate(values))
            body.append(
                f'<polyline class="series" fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>'
            )
        legend_y = PAD + 14 * n + 8
        body.append(
            f'<rect x="{PAD + plot_w + 12}" y="{legend_y - 8}" width="10" height="10" fill="{colour}"/>'
        )
        body.append(_text(PAD + plot_w + 26, legend_y + 1, name))
    return _svg(body, title=title)


def stacked_bars(rows: Sequence[tuple[str, Mapping[str, int]]], *, title: str) -> str:
    """One horizontal bar per row, split by outcome (OUTCOME_COLOURS order), scaled to the largest row."""
    biggest = max((sum(parts.values()) for _, parts in rows), default=0) or 1
    height = PAD + 28 * max(len(rows), 1) + 24
    plot_w = WIDTH - 2 * PAD - 120
    body = []
    for n, (label, parts) in enumerate(rows):
        top, x = PAD + 28 * n, float(PAD + 120)
        body.append(_text(PAD + 112, top + 14, label, anchor="end"))
        for outcome, colour in OUTCOME_COLOURS.items():
            width = plot_w * parts.get(outcome, 0) / biggest
            if width:
                body.append(
                    f'<rect class="bar" x="{x:.1f}" y="{top}" width="{width:.1f}" height="20" '
                    f'fill="{colour}">'
                    f"<title>{escape(f'{label}: {parts[outcome]} {outcome}')}</title></rect>"
                )
                x += width
    for n, (outcome, colour) in enumerate(OUTCOME_COLOURS.items()):
        lx = PAD + 120 + 110 * n
        body.append(f'<rect x="{lx}" y="{height - 18}" width="10" height="10" fill="{colour}"/>')
        body.append(_text(lx + 14, height - 9, outcome))
    return _svg(body, title=title, height=height)


def against_target(rows: Sequence[tuple[str, float | None, float]], *, title: str) -> str:
    """One bar per row (measured seconds) with a tick at its target; a bar past its tick is red."""
    biggest = max((max(v or 0.0, t) for _, v, t in rows), default=0.0) or 1.0
    height = PAD + 28 * max(len(rows), 1) + 8
    plot_w = WIDTH - 2 * PAD - 120
    height += 20
    body = [_text(PAD + 120, height - 10, "bar: measured (red when past the SLA) · tick: SLA target")]
    for n, (label, value, target) in enumerate(rows):
        top = PAD + 28 * n
        body.append(_text(PAD + 112, top + 14, label, anchor="end"))
        tick = PAD + 120 + plot_w * target / biggest
        if value is not None:
            colour = "#dc2626" if value > target else "#16a34a"
            body.append(
                f'<rect class="bar" x="{PAD + 120}" y="{top}" width="{plot_w * value / biggest:.1f}" '
                'height="20" '
                f'fill="{colour}"><title>{escape(f"{label}: {value:.0f}s of {target:.0f}s")}</title></rect>'
            )
        body.append(
            f'<line class="target" x1="{tick:.1f}" x2="{tick:.1f}" y1="{top - 3}" y2="{top + 23}" '
            'stroke="#111827" stroke-width="2"/>'
        )
    return _svg(body, title=title, height=height)
