#!/usr/bin/env python3
"""Draws `recommend` latency against catalogue size and history length as one
self-contained SVG (no plotting library needed). Input: the JSON lines the
`scale` criterion bench appends to $MIZAN_BENCH_OUT.
Usage: chart.py latency.jsonl chart.svg [title]
"""
import json
import math
import sys


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    out = sys.argv[2]
    title = sys.argv[3] if len(sys.argv) > 3 else "recommend top 20: latency (p50 solid, p99 dashed)"
    # The last measurement of each configuration wins.
    latest = {(r["items"], r["history"]): r for r in rows}
    items = sorted({k[0] for k in latest})
    histories = sorted({k[1] for k in latest})
    width, height, left, right, top, bottom = 720, 420, 70, 170, 40, 50
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for r in latest.values() for v in (r["p50_us"], r["p99_us"])]
    lo, hi = math.floor(math.log10(min(values))), math.ceil(math.log10(max(values)))
    hi = max(hi, lo + 1)

    def x(n):
        span = math.log10(items[-1]) - math.log10(items[0]) or 1.0
        return left + plot_w * (math.log10(n) - math.log10(items[0])) / span

    def y(us):
        return top + plot_h * (1 - (math.log10(us) - lo) / (hi - lo))

    colours = ["#1b6ca8", "#d1495b", "#2e933c", "#8e5ea2", "#edae49"]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             f'<text x="{left}" y="22" font-size="14">{title}</text>']
    for e in range(lo, hi + 1):
        label = f"{10 ** e / 1000:g} ms" if e >= 3 else f"{10 ** e:g} µs"
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(10 ** e):.1f}" y2="{y(10 ** e):.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 6}" y="{y(10 ** e) + 4:.1f}" text-anchor="end">{label}</text>')
    for n in items:
        parts.append(f'<text x="{x(n):.1f}" y="{top + plot_h + 18}" text-anchor="middle">{n:,}</text>')
    parts.append(f'<text x="{left + plot_w / 2}" y="{height - 10}" text-anchor="middle">catalogue items</text>')
    for c, h in enumerate(histories):
        colour = colours[c % len(colours)]
        for key, dash in (("p50_us", ""), ("p99_us", ' stroke-dasharray="5,4"')):
            points = [(x(n), y(latest[(n, h)][key])) for n in items if (n, h) in latest]
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
            parts.extend(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"/>' for px, py in points)
        ly = top + 20 * c
        parts.append(f'<line x1="{left + plot_w + 15}" x2="{left + plot_w + 35}" y1="{ly}" y2="{ly}" stroke="{colour}" stroke-width="2"/>')
        parts.append(f'<text x="{left + plot_w + 40}" y="{ly + 4}">{h:,} events</text>')
    parts.append("</svg>")
    with open(out, "w") as f:
        f.write("\n".join(parts) + "\n")


if __name__ == "__main__":
    main()
