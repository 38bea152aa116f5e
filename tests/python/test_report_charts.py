"""The report's charts and page read right (what can be checked without looking at pixels):
each point over its own period and label, legends beside the plot, a labelled as-of line,
whole numbers on count axes, a readable freshness gauge, start → target on one line and one
status word per health metric."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from conftest import REPO
from test_check import AS_OF, make_kpi_values, set_value

from telemetry_kpis.definitions import load_definitions
from telemetry_kpis.evaluate import evaluate, prepare_kpi_values
from telemetry_kpis.results import Evaluation


@pytest.fixture(scope="module")
def evaluation() -> Evaluation:
    definitions = load_definitions(REPO / "kpi_definitions")
    frame = set_value(make_kpi_values(), "pipeline_success_rate", "day", AS_OF, 0.2)
    return evaluate(
        definitions, prepare_kpi_values(frame), AS_OF, computed={"data_freshness_hours": 12.5}
    )


def _kr(evaluation: Evaluation, key: str):
    return next(kr for kr in evaluation.key_results if kr.key.endswith(key))


def _health(evaluation: Evaluation, key: str):
    return next(h for h in evaluation.health if h.key == key)


def _legend_outside(fig) -> None:
    fig.canvas.draw()
    ax = fig.axes[0]
    legend = ax.get_legend()
    assert legend is not None
    assert legend.get_window_extent().x0 >= ax.get_window_extent().x1


def test_monthly_points_sit_over_their_month(evaluation) -> None:
    from matplotlib.dates import num2date

    from telemetry_kpis.report.charts import key_result_figure

    kr = _kr(evaluation, "grow_map")
    fig = key_result_figure(kr)
    ax = fig.axes[0]
    line = next(x for x in ax.get_lines() if x.get_label() == "Monthly active projects (MAP)")
    xs = [pd.Timestamp(num2date(x)).tz_localize(None) for x in line.get_xdata(orig=False)]
    ys = list(line.get_ydata())
    assert len(xs) >= 3
    months = kr.series[kr.series["complete"]]
    for x, y in zip(xs, ys, strict=True):
        month = months[(months["period_start"] <= x) & (x < months["period_end"])]
        assert len(month) == 1, x  # inside one month, never at its end
        assert month["value"].iloc[0] == y  # and it is that month's value
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert [x.strftime("%b %Y") for x in xs] == labels[: len(xs)]
    _legend_outside(fig)
    as_of = [x for x in ax.get_lines() if str(x.get_label()).startswith("as of ")]
    assert [x.get_label() for x in as_of] == [f"as of {AS_OF}"]
    assert any(t.get_text() == f"as of {AS_OF}" for t in ax.texts)  # written on the chart
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks and not any(re.search(r"\.\d", t) for t in ticks), ticks  # whole numbers
    assert all(float(t.replace(",", "")).is_integer() for t in ticks if t)


def test_rate_axis_in_percent(evaluation) -> None:
    from telemetry_kpis.report.charts import key_result_figure

    fig = key_result_figure(_kr(evaluation, "improve_pipeline_success"))
    fig.canvas.draw()
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ticks and all(t.endswith("%") for t in ticks), ticks


def test_health_charts_keep_the_legend_off_the_data(evaluation) -> None:
    from telemetry_kpis.report.charts import health_figure

    for health in evaluation.health:
        _legend_outside(health_figure(health))
    gauge = health_figure(_health(evaluation, "data_freshness"))
    ax = gauge.axes[0]
    labels = [x.get_label() for x in ax.get_lines()]
    assert "maximum 48.0h" in labels  # the limit is drawn and named
    bar = ax.patches[-1]
    assert bar.get_height() <= 0.4 and bar.get_width() == pytest.approx(12.5)
    assert any(t.get_text() == "12.5h" for t in ax.texts)  # the value written by the bar


def test_page_start_target_on_one_line_and_one_status_word(evaluation) -> None:
    from telemetry_kpis.report.html import render_html

    definitions = load_definitions(REPO / "kpi_definitions")
    page = render_html(evaluation, definitions, {})
    cells = re.findall(r'<td class="start-target">(.*?)</td>', page, re.S)
    assert len(cells) == len(evaluation.key_results)
    grow_map = cells[
        [kr.key for kr in evaluation.key_results].index(_kr(evaluation, "grow_map").key)
    ]
    assert " ".join(re.sub(r"<[^>]+>", "", grow_map).split()) == "14 → 20 (example)"
    assert re.search(r"\.start-target[^{]*\{ white-space: nowrap; \}", page)
    statuses = re.findall(r'<td class="status">(.*?)</td>', page, re.S)
    assert len(statuses) == len(evaluation.health)
    words = [re.sub(r"<[^>]+>", "", s).strip() for s in statuses]
    assert set(words) <= {"ok", "warn", "alarm"} and "alarm" in words, words
    assert "raises an alarm" in page and "(alarm)" not in page
