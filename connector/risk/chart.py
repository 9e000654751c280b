"""An SVG chart of oversell risk against buffer, one line per channel (no dependencies).

Risk per sell-out is drawn on a log scale (1 down to 1e-6) against the buffer in units;
a dot marks each channel's advised buffer and a dashed line the target, so a merchant
sees at a glance which channel needs units held back and what each unit buys.

Usage::

    svg = risk_chart("MUG-CER-350", {"amazon_de": [0.3, 0.05, ...]}, {"amazon_de": 2}, 0.001)
    Path("risk.svg").write_text(svg)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")
FLOOR = 1e-6
W, H, LEFT, RIGHT, TOP, BOTTOM = 720, 420, 70, 170, 40, 50


def risk_chart(title: str, curves: Mapping[str, Sequence[float]], advised: Mapping[str, int],
               target: float, uniform: Sequence[float] | None = None) -> str:
    """`curves`: channel -> risk per sell-out at buffer 0, 1, 2, ... (the others at 0)."""
    longest = max([len(c) for c in curves.values()] + [len(uniform or []), 2])
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    decades = -int(math.log10(FLOOR))

    def x(b: float) -> float:
        return LEFT + plot_w * b / (longest - 1)

    def y(risk: float) -> float:
        value = max(FLOOR, min(1.0, risk))
        return TOP + plot_h * (-math.log10(value)) / decades

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
           f'viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{LEFT}" y="22" font-size="15" font-weight="bold">'
           f'Oversell risk per sell-out against buffer: {escape(title)}</text>']
    for d in range(decades + 1):  # grid: one line per decade
        yy = TOP + plot_h * d / decades
        out.append(f'<line x1="{LEFT}" y1="{yy:.1f}" x2="{LEFT + plot_w}" y2="{yy:.1f}" stroke="#ddd"/>')
        label = "100%" if d == 0 else f"1e-{d}"
        out.append(f'<text x="{LEFT - 6}" y="{yy + 4:.1f}" text-anchor="end">{label}</text>')
    for b in range(longest):
        out.append(f'<text x="{x(b):.1f}" y="{TOP + plot_h + 18}" text-anchor="middle">{b}</text>')
    out.append(f'<text x="{LEFT + plot_w / 2}" y="{H - 10}" text-anchor="middle">buffer (units held back)</text>')
    out.append(f'<text x="16" y="{TOP + plot_h / 2}" transform="rotate(-90 16 {TOP + plot_h / 2})" '
               f'text-anchor="middle">risk of an oversell per sell-out</text>')
    out.append(f'<line x1="{LEFT}" y1="{y(target):.1f}" x2="{LEFT + plot_w}" y2="{y(target):.1f}" '
               f'stroke="black" stroke-dasharray="6 4"/>')
    out.append(f'<text x="{LEFT + plot_w + 6}" y="{y(target) + 4:.1f}">target {target:g}</text>')
    legend_y = TOP + 24
    if uniform:
        points = " ".join(f"{x(b):.1f},{y(r):.1f}" for b, r in enumerate(uniform))
        out.append(f'<polyline points="{points}" fill="none" stroke="black" stroke-width="2.5"/>')
        out.append(f'<text x="{LEFT + plot_w + 6}" y="{legend_y}">all channels</text>')
        legend_y += 16
    for index, (code, curve) in enumerate(curves.items()):
        colour = PALETTE[index % len(PALETTE)]
        points = " ".join(f"{x(b):.1f},{y(r):.1f}" for b, r in enumerate(curve))
        out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.8"/>')
        chosen = advised.get(code)
        if chosen is not None and chosen < len(curve):
            out.append(f'<circle cx="{x(chosen):.1f}" cy="{y(curve[chosen]):.1f}" r="4.5" fill="{colour}"/>')
        note = f" (advised {chosen})" if chosen is not None else ""
        out.append(f'<text x="{LEFT + plot_w + 6}" y="{legend_y}" fill="{colour}">{escape(code)}{note}</text>')
        legend_y += 16
    out.append("</svg>")
    return "\n".join(out) + "\n"
