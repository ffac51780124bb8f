"""Small server-rendered SVG charts: no script, no CDN, nothing fetched by the browser."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

#: Bar colours by series, readable in the admin's light and dark themes.
COLOURS = ("#2e7d32", "#1565c0", "#c62828", "#9e9e9e")


def stacked_bars(
    labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]], *, width: int = 640, height: int = 180
) -> SafeString:
    """One stacked bar per label (e.g. a day), one colour per series, a legend and a title per bar."""
    count = max(len(labels), 1)
    totals = [sum(values[i] for _, values in series) for i in range(len(labels))]
    peak = max(totals, default=0) or 1
    plot_height = height - 40
    slot = width / count
    bar = max(slot * 0.7, 1)
    rects = []
    for i, label in enumerate(labels):
        y = plot_height + 10.0
        for index, (name, values) in enumerate(series):
            value = values[i]
            if not value:
                continue
            h = value / peak * plot_height
            y -= h
            colour = COLOURS[index % len(COLOURS)]
            rects.append(
                (f"{i * slot + (slot - bar) / 2:.1f}", f"{y:.1f}", f"{bar:.1f}", f"{h:.1f}", colour, name, label, value)
            )
    bars = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{} on {}: {}</title></rect>',
        rects,
    )
    step = max(count // 8, 1)
    ticks = format_html_join(
        "",
        '<text x="{}" y="{}" font-size="10" text-anchor="middle" fill="currentColor">{}</text>',
        ((f"{i * slot + slot / 2:.1f}", height - 16, label) for i, label in enumerate(labels) if i % step == 0),
    )
    legend = format_html_join(
        "",
        '<rect x="{}" y="{}" width="10" height="10" fill="{}"></rect>'
        '<text x="{}" y="{}" font-size="11" fill="currentColor">{}</text>',
        (
            (index * 130, height - 10, COLOURS[index % len(COLOURS)], index * 130 + 14, height - 1, name)
            for index, (name, _) in enumerate(series)
        ),
    )
    return format_html(
        '<svg class="sinch-chart" role="img" xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" '
        'viewBox="0 0 {} {}"><text x="0" y="9" font-size="10" fill="currentColor">max {}</text>{}{}{}</svg>',
        width,
        height + 4,
        width,
        height + 4,
        peak,
        bars,
        ticks,
        legend,
    )
