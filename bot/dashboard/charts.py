"""Draw small SVG charts with no library; every mark carries its value for readers and tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 320, 140
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 28, 10, 10, 22
SCALE_MIN, SCALE_MAX = 1.0, 5.0
# Colours that stay apart for the common colour-vision deficiencies.
OUTCOME_COLOURS = {
    "done": "#1b7f3b",
    "snoozed": "#b58900",
    "skipped": "#6c757d",
    "not_relevant": "#b02a37",
    "open": "#9ec5fe",
}


@dataclass(frozen=True)
class ScorePoint:
    """One point of a score line: its label on the x axis and its score on the 1-5 scale."""

    label: str
    score: float
    answered: int


def score_chart(points: Sequence[ScorePoint], title: str) -> str:
    """Draw scores over time as a line with dots, the scale's 1-5 on the y axis."""
    inner_w = WIDTH - PAD_LEFT - PAD_RIGHT
    inner_h = HEIGHT - PAD_TOP - PAD_BOTTOM

    def x(i: int) -> float:
        return PAD_LEFT + (inner_w * i / (len(points) - 1) if len(points) > 1 else inner_w / 2)

    def y(score: float) -> float:
        clamped = min(SCALE_MAX, max(SCALE_MIN, score))
        return PAD_TOP + inner_h * (SCALE_MAX - clamped) / (SCALE_MAX - SCALE_MIN)

    parts = [
        f'<svg class="chart score" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for level in range(1, 6):
        yy = y(level)
        parts.append(
            f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{yy:.1f}" y2="{yy:.1f}" '
            'class="grid"/>'
            f'<text x="{PAD_LEFT - 6}" y="{yy + 4:.1f}" class="axis" '
            f'text-anchor="end">{level}</text>'
        )
    if len(points) > 1:
        path = " ".join(f"{x(i):.1f},{y(p.score):.1f}" for i, p in enumerate(points))
        parts.append(f'<polyline points="{path}" class="line"/>')
    for i, point in enumerate(points):
        label = escape(point.label)
        parts.append(
            f'<circle cx="{x(i):.1f}" cy="{y(point.score):.1f}" r="4" class="dot" '
            f'data-label="{label}" data-score="{point.score:.2f}" '
            f'data-answered="{point.answered}"><title>{label}: {point.score:.1f} '
            f"({point.answered})</title></circle>"
        )
    if points:
        for i in (0, len(points) - 1) if len(points) > 1 else (0,):
            anchor = "start" if i == 0 and len(points) > 1 else "end" if i else "middle"
            parts.append(
                f'<text x="{x(i):.1f}" y="{HEIGHT - 6}" class="axis" text-anchor="{anchor}">'
                f"{escape(points[i].label)}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


def stacked_bar(counts: dict[str, int], labels: dict[str, str], title: str) -> str:
    """Draw one horizontal bar split by outcome, each part as wide as its share."""
    total = sum(counts.values())
    parts = [
        f'<svg class="chart bar" viewBox="0 0 {WIDTH} 24" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    left = 0.0
    for outcome, colour in OUTCOME_COLOURS.items():
        count = counts.get(outcome, 0)
        if not count or not total:
            continue
        width = WIDTH * count / total
        name = escape(labels.get(outcome, outcome))
        parts.append(
            f'<rect x="{left:.1f}" y="2" width="{width:.1f}" height="20" fill="{colour}" '
            f'data-outcome="{outcome}" data-count="{count}"><title>{name}: {count}</title></rect>'
        )
        left += width
    parts.append("</svg>")
    return "".join(parts)
