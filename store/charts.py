"""Charts of the jobs view, rendered on the server as inline SVG (no JavaScript, no CDN).

``QUERIES`` are read-only SQL over the ``jobs`` view; the ``*_chart`` functions turn their rows into
SVG markup with every label escaped. The Datasette plugin in ``store/datasette/plugins`` serves them at
``/-/charts``.
"""

from __future__ import annotations

from collections import defaultdict
from html import escape
from statistics import median, quantiles
from typing import Any, Iterable, Mapping

from store.metadata import bls_median

ROLE_COLOURS = {"technician": "#1f77b4", "coder": "#d62728", "registrar": "#2ca02c", "other": "#9a9a9a"}
WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 40, 50

_WEEK = "date(substr(first_seen, 1, 10), 'weekday 0', '-6 days')"  # the Monday of first_seen's week
QUERIES = {
    "weekly_roles": f"select {_WEEK} as week, coalesce(role, 'other') as role, count(*) as jobs "
                    "from jobs group by week, role order by week",
    "weekly_remote": f"select {_WEEK} as week, count(*) as jobs, sum(arrangement = 'remote') as remote "
                     "from jobs group by week order by week",
    "salaries": "select coalesce(role, 'other') as role, salary_annual from jobs "
                "where salary_annual is not null and coalesce(salary_currency, 'USD') = 'USD'",
}


def _svg(label: str, body: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="himjobs-chart" role="img" aria-label="{escape(label)}" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
            f'style="background:#fff;font-family:sans-serif;font-size:12px">'
            f"<title>{escape(label)}</title>"
            f'<text x="{LEFT}" y="22" font-size="15" font-weight="bold">{escape(label)}</text>{body}</svg>')


def _empty(label: str) -> str:
    return _svg(label, f'<text x="{LEFT}" y="{HEIGHT // 2}" fill="#666">No data yet.</text>')


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10.0 * magnitude


def _y_axis(top_value: float, fmt: Any, ticks: int = 4) -> tuple[str, Any]:
    plot_h = HEIGHT - TOP - BOTTOM

    def y(v: float) -> float:
        return TOP + plot_h * (1 - v / top_value)

    parts = []
    for i in range(ticks + 1):
        v = top_value * i / ticks
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#e5e5e5"/>'
                     f'<text x="{LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end" fill="#444">{escape(fmt(v))}</text>')
    return "".join(parts), y


def _x_labels(labels: list[str], x: Any) -> str:
    every = max(1, len(labels) // 8)
    return "".join(f'<text x="{x(i):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" fill="#444">'
                   f"{escape(label[5:] if len(label) == 10 else label)}</text>"
                   for i, label in enumerate(labels) if i % every == 0)


def _legend(names: Iterable[str]) -> str:
    parts, x = [], LEFT
    for name in names:
        colour = ROLE_COLOURS.get(name, "#555")
        parts.append(f'<rect x="{x}" y="{HEIGHT - 18}" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{x + 16}" y="{HEIGHT - 8}">{escape(name)}</text>')
        x += 24 + 8 * len(name)
    return "".join(parts)


def weekly_roles_chart(rows: Iterable[Mapping[str, Any]]) -> str:
    """Stacked bars: jobs first seen each week, by role."""
    label = "Jobs first seen per week, by role"
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for r in rows:
        counts[r["week"]][r["role"]] = int(r["jobs"])
    if not counts:
        return _empty(label)
    weeks = sorted(counts)
    roles = [r for r in ROLE_COLOURS if any(r in c for c in counts.values())]
    roles += sorted({r for c in counts.values() for r in c} - set(roles))
    axis, y = _y_axis(_nice_max(max(sum(c.values()) for c in counts.values())), lambda v: f"{v:g}")
    slot = (WIDTH - LEFT - RIGHT) / len(weeks)

    def x(i: int) -> float:
        return LEFT + slot * (i + 0.5)

    bars = []
    for i, week in enumerate(weeks):
        base = 0
        for role in roles:
            n = counts[week].get(role, 0)
            if n:
                bars.append(f'<rect class="bar" x="{x(i) - slot * 0.35:.1f}" y="{y(base + n):.1f}" '
                            f'width="{slot * 0.7:.1f}" height="{y(base) - y(base + n):.1f}" '
                            f'fill="{ROLE_COLOURS.get(role, "#555")}"><title>{escape(f"{week} {role}: {n}")}</title></rect>')
                base += n
    return _svg(label, axis + "".join(bars) + _x_labels(weeks, x) + _legend(roles))


def weekly_remote_chart(rows: Iterable[Mapping[str, Any]]) -> str:
    """Line: share of each week's new jobs labelled remote."""
    label = "Share of new jobs that are remote, per week"
    points = [(r["week"], (r["remote"] or 0) / r["jobs"]) for r in rows if r["jobs"]]
    if not points:
        return _empty(label)
    axis, y = _y_axis(1.0, lambda v: f"{v:.0%}")
    step = (WIDTH - LEFT - RIGHT) / len(points)

    def x(i: int) -> float:
        return LEFT + step * (i + 0.5)

    path = " ".join(f"{x(i):.1f},{y(share):.1f}" for i, (_, share) in enumerate(points))
    dots = "".join(f'<circle class="point" cx="{x(i):.1f}" cy="{y(share):.1f}" r="4" fill="#6a3d9a">'
                   f"<title>{escape(f'{week}: {share:.0%}')}</title></circle>" for i, (week, share) in enumerate(points))
    line = f'<polyline fill="none" stroke="#6a3d9a" stroke-width="2.5" points="{path}"/>'
    return _svg(label, axis + line + dots + _x_labels([w for w, _ in points], x))


def salary_chart(rows: Iterable[Mapping[str, Any]]) -> str:
    """Box plot per role of yearly pay midpoints, with the BLS median as a reference line."""
    label = "Posted yearly pay by role (USD) against the BLS median"
    by_role: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        by_role[r["role"]].append(float(r["salary_annual"]))
    if not by_role:
        return _empty(label)
    roles = [r for r in ROLE_COLOURS if r in by_role] + sorted(set(by_role) - set(ROLE_COLOURS))
    top = _nice_max(max(max(v) for v in by_role.values()) * 1.05)
    axis, y = _y_axis(top, lambda v: f"${v / 1000:.0f}k")
    slot = (WIDTH - LEFT - RIGHT) / len(roles)
    parts = [axis]
    for i, role in enumerate(roles):
        values = sorted(by_role[role])
        q1, mid, q3 = quantiles(values, n=4, method="inclusive") if len(values) > 1 else (values[0],) * 3
        cx, half = LEFT + slot * (i + 0.5), min(40.0, slot * 0.3)
        colour = ROLE_COLOURS.get(role, "#555")
        parts.append(
            f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{y(values[-1]):.1f}" y2="{y(values[0]):.1f}" stroke="#333"/>'
            f'<rect class="box" x="{cx - half:.1f}" y="{y(q3):.1f}" width="{2 * half:.1f}" '
            f'height="{max(1.0, y(q1) - y(q3)):.1f}" fill="{colour}" fill-opacity="0.75" stroke="#333">'
            f"<title>{escape(f'{role}: median ${median(values):,.0f} of {len(values)} jobs')}</title></rect>"
            f'<line x1="{cx - half:.1f}" x2="{cx + half:.1f}" y1="{y(mid):.1f}" y2="{y(mid):.1f}" stroke="#000" stroke-width="2"/>'
            f'<text x="{cx:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">{escape(f"{role} ({len(values)})")}</text>'
        )
    reference = bls_median()
    if reference <= top:
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(reference):.1f}" y2="{y(reference):.1f}" '
                     f'stroke="#ff7f00" stroke-dasharray="6 4" stroke-width="2"/>'
                     f'<line x1="{WIDTH - RIGHT - 150}" x2="{WIDTH - RIGHT - 125}" y1="18" y2="18" stroke="#ff7f00" '
                     f'stroke-dasharray="6 4" stroke-width="2"/><text x="{WIDTH - RIGHT}" y="22" text-anchor="end" '
                     f'fill="#c05f00">BLS median ${reference:,}</text>')
    return _svg(label, "".join(parts))


def render_charts(results: Mapping[str, list[Mapping[str, Any]]]) -> list[str]:
    """The three charts' SVG, from the rows of each query in ``QUERIES``."""
    return [weekly_roles_chart(results["weekly_roles"]), weekly_remote_chart(results["weekly_remote"]),
            salary_chart(results["salaries"])]
