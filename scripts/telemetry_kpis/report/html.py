"""The report page: one self-contained HTML file (inline CSS, charts as base64 PNG, no scripts,
no CDN), so it opens offline and can be mailed or published as is."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from html import escape
from typing import TYPE_CHECKING

from telemetry_kpis.report.charts import STATUS_COLOURS

if TYPE_CHECKING:
    from telemetry_kpis.definitions import Definitions
    from telemetry_kpis.evaluate import Evaluation, KeyResultResult

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #1f2328; background: #f6f8fa; }
main { max-width: 1100px; margin: 0 auto; padding: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 20px; margin: 32px 0 8px; }
h3 { font-size: 15px; margin: 0 0 6px; }
.meta { color: #57606a; margin-bottom: 16px; }
.card { background: #fff; border: 1px solid #d0d7de; border-radius: 8px; padding: 14px 16px;
        margin: 12px 0; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff;
         font-size: 12px; font-weight: 600; vertical-align: middle; }
.notice { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; padding: 8px 12px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eaeef2;
         vertical-align: top; }
th { color: #57606a; font-weight: 600; }
img.chart { max-width: 100%; height: auto; display: block; margin-top: 8px; }
.muted { color: #57606a; } a { color: #0969da; }
.kr { display: flex; gap: 16px; flex-wrap: wrap; align-items: flex-start; }
.kr table.summary { flex: 1 1 300px; width: auto; }
.kr .chartbox { flex: 2 1 520px; }
.summary th { white-space: nowrap; }
"""


def badge(status: str) -> str:
    colour = STATUS_COLOURS.get(status, "#57606a")
    return f'<span class="badge" style="background:{colour}">{escape(status)}</span>'


def img(png: bytes | None, alt: str, file_name: str | None) -> str:
    if not png:
        return ""
    data = base64.b64encode(png).decode("ascii")
    title = f' title="{escape(file_name)}"' if file_name else ""
    return f'<img class="chart" alt="{escape(alt)}"{title} src="data:image/png;base64,{data}">'


def _kr_card(kr: KeyResultResult, png: bytes | None, file_name: str | None) -> str:
    from telemetry_kpis.evaluate import format_progress, format_value

    def value(v: float | None, *, example: bool = False) -> str:
        if kr.redacted:
            return '<span class="muted">internal</span>'
        text = escape(format_value(v, kr.kind))
        return f"{text} <span class='muted'>(example)</span>" if example and kr.example else text

    metric = f"{kr.kpi} / {kr.grain}" if kr.grain else kr.kpi
    partial = " <span class='muted'>(period in progress)</span>" if kr.partial else ""
    owner = f" · owner {escape(kr.owner)}" if kr.owner else ""
    note = f"<p class='muted'>{escape(kr.note)}</p>" if kr.note else ""
    return f"""
<div class="card" id="kr-{escape(kr.key)}">
  <h3>{escape(kr.goal)} {badge(kr.status)}</h3>
  <div class="muted">{escape(metric)} · {kr.timeframe_start} → {kr.timeframe_end}{owner} ·
    <a href="{escape(kr.dashboard)}">dashboard</a></div>
  <div class="kr">
  <table class="summary">
    <tr><th>Current{" (" + str(kr.measured_on) + ")" if kr.measured_on else ""}</th>
        <td>{value(kr.current_value)}{partial}</td></tr>
    <tr><th>Start → target</th><td>{value(kr.start_value, example=True)} →
        {value(kr.target_value, example=True)}</td></tr>
    <tr><th>Progress (expected at this point)</th>
        <td>{format_progress(kr.progress)} ({format_progress(kr.expected_progress)})</td></tr>
    <tr><th>Projected at the end (trend)</th><td>{value(kr.projected_value)}
        ({format_progress(kr.projected_progress)})</td></tr>
  </table>
  <div class="chartbox">{img(png, f"{kr.goal}: chart", file_name)}</div>
  </div>
  {note}
</div>"""


def _health_rows(evaluation: Evaluation) -> str:
    from telemetry_kpis.evaluate import format_range, format_value

    rows = []
    for h in evaluation.health:
        if h.redacted:
            value = rng = '<span class="muted">internal</span>'
        else:
            value = escape(format_value(h.value, h.kind))
            rng = escape(format_range(h))
        change = "—" if h.change_pct is None else f"{h.change_pct:+.1f}%"
        z = "—" if h.anomaly_score is None else f"{h.anomaly_score:+.1f}"
        details = (
            "; ".join(h.breaches)
            if not h.redacted
            else (f"{len(h.breaches)} breach(es)" if h.breaches else "")
        )
        if h.note:
            details = f"{details}; {h.note}" if details else h.note
        rows.append(
            f"<tr><td>{escape(h.key)}</td><td>{escape(h.metric)}"
            f"{'/' + escape(h.grain) if h.grain else ''}</td><td>{value}</td><td>{rng}</td>"
            f"<td>{change}</td><td>{z}</td><td>{badge(h.status)} "
            f"<span class='muted'>({escape(h.severity)})</span></td>"
            f"<td>{escape(details)}</td><td><a href='{escape(h.runbook)}'>runbook</a></td></tr>"
        )
    return "\n".join(rows)


def render_html(
    evaluation: Evaluation,
    definitions: Definitions,
    charts: Mapping[str, tuple[bytes, str]],
) -> str:
    """The whole page. ``charts`` maps ``kr:<key>`` / ``health:<key>`` to (PNG, file name)."""
    by_okr: dict[str, list[KeyResultResult]] = {}
    for kr in evaluation.key_results:
        by_okr.setdefault(kr.okr, []).append(kr)
    sections = []
    for okr in definitions.okrs:
        krs = by_okr.get(okr.name)
        if not krs:
            continue
        counts = {}
        for kr in krs:
            counts[kr.status] = counts.get(kr.status, 0) + 1
        tally = " ".join(f"{badge(s)}&nbsp;×{n}" for s, n in counts.items())
        cards = "".join(_kr_card(kr, *charts.get(f"kr:{kr.key}", (None, None))) for kr in krs)
        sections.append(
            f"""
<section id="okr-{escape(okr.name)}">
  <h2>{escape(okr.label)}</h2>
  <div class="meta">{escape(okr.objective)} · scope {escape(okr.scope)} ·
    {okr.timeframe.start} → {okr.timeframe.end} · {tally}</div>
  {cards}
</section>"""
        )
    health_charts = []
    for h in evaluation.health:
        png, file_name = charts.get(f"health:{h.key}", (None, None))
        health_charts.append(img(png, f"{h.key}: chart", file_name))
    quality = ""
    if evaluation.quality_ran:
        rows = "".join(
            f"<tr><td>{escape(q.description)}</td><td class='muted'>{escape(q.name)}</td>"
            f"<td>{q.checked}</td><td>{q.failed}</td><td>{badge(q.status)}</td>"
            f"<td>{escape(q.details)}</td></tr>"
            for q in evaluation.quality
        )
        quality = f"""
<h2>Data quality</h2>
<div class="card"><div class="muted">great-expectations suites on marts.kpi_values</div>
<table><tr><th>Check</th><th>Expectation</th><th>Rows</th><th>Failed</th><th>Status</th>
<th>Details</th></tr>{rows}</table></div>"""
    example = ""
    if any(kr.example for kr in evaluation.key_results):
        example = (
            '<p class="notice">Start and target values marked <em>(example)</em> are examples '
            "from the definition files, not agreed targets.</p>"
        )
    view = " · public view" if evaluation.public else ""
    generated = evaluation.generated_at.strftime("%Y-%m-%d %H:%M %Z").strip()
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>KPIs and OKRs as of {evaluation.as_of}</title>
<style>{CSS}</style>
</head>
<body>
<main>
<h1>KPIs and OKRs {badge(evaluation.level)}</h1>
<div class="meta">as of {evaluation.as_of} · generated {escape(generated)}{view}</div>
{example}
{"".join(sections) or "<p>No key results.</p>"}
<h2>Health metrics</h2>
<div class="card">
<table><tr><th>Name</th><th>Metric</th><th>Value</th><th>Range</th><th>Change vs baseline</th>
<th>Robust z</th><th>Status</th><th>Details</th><th></th></tr>
{_health_rows(evaluation)}
</table>
{"".join(health_charts)}
</div>
{quality}
</main>
</body>
</html>
"""
