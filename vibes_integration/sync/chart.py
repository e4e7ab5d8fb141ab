"""The dashboard's chart of the last 24 hours, drawn on the server as inline SVG.

No script and no third-party asset: the admin must work behind a strict CSP and offline.
Two panels share the time axis: calls to Vibes per minute by outcome, and the hourly
percentiles of both delays.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from vibes_integration.sync.lag import (
    OUTCOME_FAILED,
    OUTCOME_NOT_FOUND_DONE,
    OUTCOME_OK,
    HourlyLag,
    calls_per_minute,
    hourly_lag,
)

WIDTH = 720
PANEL_HEIGHT = 100
LEFT = 48
TOP_CALLS = 12
TOP_LAG = 150
HEIGHT = 272
MINUTES = 24 * 60


@dataclass(frozen=True)
class Line:
    """One series: its legend text, colour and points (None where there is no value)."""

    key: str
    label: str
    colour: str
    values: list[float | None]
    dashed: bool = False
    markers: bool = False


def _scale_max(lines: list[Line]) -> float:
    top = max((v for line in lines for v in line.values if v is not None), default=0.0)
    return top if top > 0 else 1.0


def _paths(lines: list[Line], top: float, panel_top: int, count: int) -> SafeString:
    """Each line as one SVG path; a gap (None) lifts the pen. Lines with markers also get
    a dot per point, so that an hour alone between gaps still shows."""
    step = (WIDTH - LEFT) / max(1, count - 1)
    parts = []
    for line in lines:
        commands, dots, pen_down = [], [], False
        for n, value in enumerate(line.values):
            if value is None:
                pen_down = False
                continue
            x = LEFT + n * step
            y = panel_top + PANEL_HEIGHT - (value / top) * PANEL_HEIGHT
            commands.append(f"{'L' if pen_down else 'M'}{x:.1f} {y:.1f}")
            dots.append((x, y))
            pen_down = True
        if not commands:
            continue
        dash = SafeString(' stroke-dasharray="4 3"') if line.dashed else ""
        parts.append(
            format_html(
                '<path class="vibes-chart-{}" d="{}" fill="none" stroke="{}" '
                'stroke-width="1.5"{}><title>{}</title></path>',
                line.key,
                " ".join(commands),
                line.colour,
                dash,
                line.label,
            )
        )
        if line.markers:
            parts.append(
                format_html_join(
                    "",
                    '<circle cx="{}" cy="{}" r="2" fill="{}"/>',
                    ((f"{x:.1f}", f"{y:.1f}", line.colour) for x, y in dots),
                )
            )
    return SafeString("".join(parts))


def _panel(title: str, unit: str, lines: list[Line], panel_top: int, count: int) -> SafeString:
    top = _scale_max(lines)
    bottom = panel_top + PANEL_HEIGHT
    return format_html(
        '<text x="{}" y="{}" class="vibes-chart-title">{}</text>'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="currentColor" stroke-opacity=".3"/>'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="currentColor" stroke-opacity=".15"/>'
        '<text x="{}" y="{}" text-anchor="end">{}</text>'
        '<text x="{}" y="{}" text-anchor="end">0</text>{}',
        LEFT,
        panel_top - 2,
        title,
        LEFT,
        bottom,
        WIDTH,
        bottom,
        LEFT,
        panel_top + 8,
        WIDTH,
        panel_top + 8,
        LEFT - 4,
        panel_top + 12,
        f"{_round(top)}{unit}",
        LEFT - 4,
        bottom,
        _paths(lines, top, panel_top, count),
    )


def _round(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.2g}"


def call_lines(now: datetime.datetime) -> list[Line]:
    since = (now - datetime.timedelta(minutes=MINUTES - 1)).replace(second=0, microsecond=0)
    series = calls_per_minute(since)
    minutes = [since + datetime.timedelta(minutes=n) for n in range(MINUTES)]
    labels = {
        OUTCOME_OK: (_("answered"), "#2e7d32"),
        OUTCOME_NOT_FOUND_DONE: (_("404 that meant done"), "#78909c"),
        OUTCOME_FAILED: (_("failed"), "#c62828"),
    }
    return [
        Line(outcome, label, colour, [float(series[outcome].get(m, 0)) for m in minutes])
        for outcome, (label, colour) in labels.items()
    ]


def lag_lines(hours: list[HourlyLag]) -> list[Line]:
    return [
        Line(
            "change-p50",
            _("change → Vibes, p50"),
            "#1565c0",
            [h.change.p50 for h in hours],
            markers=True,
        ),
        Line(
            "change-p99",
            _("change → Vibes, p99"),
            "#1565c0",
            [h.change.p99 for h in hours],
            dashed=True,
            markers=True,
        ),
        Line(
            "callback-p50",
            _("callback → applied, p50"),
            "#ef6c00",
            [h.callback.p50 for h in hours],
            markers=True,
        ),
        Line(
            "callback-p99",
            _("callback → applied, p99"),
            "#ef6c00",
            [h.callback.p99 for h in hours],
            dashed=True,
            markers=True,
        ),
    ]


def activity_chart(now: datetime.datetime | None = None) -> dict:
    """The SVG and its legend, for the dashboard template."""
    now = now or timezone.now()
    calls = call_lines(now)
    lags = lag_lines(hourly_lag(24, now))
    svg = format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" role="img" '
        'aria-labelledby="vibes-chart-label" class="vibes-sync-chart">'
        '<title id="vibes-chart-label">{}</title>{}{}'
        '<text x="{}" y="{}">{}</text><text x="{}" y="{}" text-anchor="end">{}</text></svg>',
        WIDTH,
        HEIGHT,
        _("Calls to Vibes per minute and delays per hour, last 24 hours"),
        _panel(_("Calls per minute"), "", calls, TOP_CALLS + 10, MINUTES),
        _panel(_("Delay (hourly percentiles)"), " s", lags, TOP_LAG, 24),
        LEFT,
        HEIGHT - 4,
        _("24 h ago"),
        WIDTH,
        HEIGHT - 4,
        _("now"),
    )
    return {"svg": svg, "legend": calls + lags}
