"""Data-quality checks on ``marts.kpi_values`` with great-expectations, when ``kpis check`` runs.

dbt owns every invariant of kpi_values: they are data tests, run by every ``kpis build``, and
are not repeated here. The not-null, accepted-values and unique tests of
``models/marts/kpis/kpi_values.yml`` (no null key, period_end or is_complete; grain in
day/week/month); ``assert_kpi_values_unique`` (one row per metric_name, grain, period_start);
``assert_kpi_values_no_gaps`` (every series without a gap, each period aligned to its grain);
``assert_kpi_values_publish_every_metric`` (exactly the registry's metrics at their grains,
counts never null); ``assert_kpi_values_within_kind_bounds`` (by the registry kind: rates null
or in [0, 1], counts >= 0, hours >= 0).

great-expectations keeps what a dbt test cannot express simply: the distribution of a series.

* ``spikes``: for every ``count`` metric of the registry with a ``day`` grain, the value of the
  newest complete day is at most ``spike_factor`` (default 10) times the 95th percentile of the
  preceding 28 complete days; a metric with fewer than 7 preceding days, or whose percentile
  is 0, is skipped. It catches a day that explodes (a double load, a generator bug), which
  no invariant of a single row sees.

The bounds are computed in pandas (one row per metric: its newest day, value and bound), and
``ExpectColumnPairValuesAToBeGreaterThanB`` checks ``bound >= value`` on those rows. An
ephemeral context validates pandas DataFrames: the DuckDB SQLAlchemy path of
great-expectations 1.x fails every expectation upstream, so the table is read into pandas
first, on every engine alike. Every failed expectation is an alarm in ``kpis check``.
"""

from __future__ import annotations

import logging
import os
import warnings
from datetime import timedelta
from typing import Any

import pandas as pd

from telemetry_kpis.definitions import metrics
from telemetry_kpis.results import QualityResult

SPIKE_FACTOR = 10.0
TRAILING_DAYS = 28
MIN_TRAILING_DAYS = 7
TRAILING_QUANTILE = 0.95


def _normalise(raw: pd.DataFrame) -> pd.DataFrame:
    """Dates as Timestamps and values as floats (PostgreSQL numerics arrive as Decimal)."""
    frame = raw.copy()
    frame["period_start"] = pd.to_datetime(frame["period_start"]).dt.tz_localize(None)
    frame["value"] = pd.to_numeric(
        frame["value"].map(lambda v: None if v is None else float(v)), errors="coerce"
    ).astype(float)
    return frame


def _day(stamp: Any) -> str:
    return "None" if pd.isna(stamp) else pd.Timestamp(stamp).date().isoformat()


def _number(value: float) -> str:
    return f"{value:,.6g}"


def spike_bounds(
    frame: pd.DataFrame, spike_factor: float = SPIKE_FACTOR
) -> tuple[pd.DataFrame, list[str]]:
    """One row per daily count metric that can be checked: metric_name, period_start (its
    newest complete day), value, trailing_p95 and bound (spike_factor x trailing_p95); and
    the metrics skipped, each with the reason."""
    counts = [m.name for m in metrics().values() if m.kind == "count" and "day" in m.grains]
    days = frame[
        (frame["grain"] == "day")
        & frame["is_complete"].fillna(False).astype(bool)
        & frame["value"].notna()
    ]
    rows: list[dict[str, Any]] = []
    skipped: list[str] = []
    for name in counts:
        series = days[days["metric_name"] == name].sort_values("period_start")
        if series.empty:
            skipped.append(f"{name} (no complete day)")
            continue
        newest = series.iloc[-1]
        start = newest["period_start"] - timedelta(days=TRAILING_DAYS)
        trailing = series[
            (series["period_start"] >= start) & (series["period_start"] < newest["period_start"])
        ]["value"]
        if len(trailing) < MIN_TRAILING_DAYS:
            skipped.append(f"{name} ({len(trailing)} preceding days)")
            continue
        p95 = float(trailing.quantile(TRAILING_QUANTILE))
        if p95 <= 0:
            skipped.append(f"{name} (p95 of the preceding days is 0)")
            continue
        rows.append(
            {
                "metric_name": name,
                "period_start": newest["period_start"],
                "value": float(newest["value"]),
                "trailing_p95": p95,
                "bound": spike_factor * p95,
            }
        )
    columns = ["metric_name", "period_start", "value", "trailing_p95", "bound"]
    return pd.DataFrame(rows, columns=columns), skipped


def _spike(row: Any, spike_factor: float) -> str:
    return (
        f"{row.metric_name} on {_day(row.period_start)}: {_number(row.value)} > bound "
        f"{_number(row.bound)} ({spike_factor:g} x p95 {_number(row.trailing_p95)})"
    )


def _validate_spikes(source: Any, frame: pd.DataFrame, spike_factor: float) -> QualityResult:
    import great_expectations.expectations as gxe

    data, skipped = spike_bounds(frame, spike_factor)
    batch = (
        source.add_dataframe_asset("spikes")
        .add_batch_definition_whole_dataframe("spikes_newest_day")
        .get_batch(batch_parameters={"dataframe": data})
    )
    expectation = gxe.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A="bound", column_B="value", or_equal=True
    )
    outcome = batch.validate(expectation, result_format="COMPLETE")
    info = outcome.result or {}
    exception = outcome.exception_info or {}
    if exception.get("raised_exception", False):
        details = str(exception.get("exception_message", ""))[:200]
    elif not outcome.success:
        offending = data.loc[list(info.get("unexpected_index_list") or [])]
        details = "; ".join(_spike(row, spike_factor) for row in offending.itertuples())
    else:
        details = f"skipped: {', '.join(skipped)}" if skipped else ""
    return QualityResult(
        name=f"spikes: {outcome.expectation_config.type} [bound, value]",
        description=(
            f"daily counts: the newest day is at most {spike_factor:g}x the p95 of the "
            f"{TRAILING_DAYS} days before"
        ),
        success=bool(outcome.success),
        checked=int(info.get("element_count") or len(data)),
        failed=int(info.get("unexpected_count") or 0),
        details=details,
    )


def run_quality(
    raw_kpi_values: pd.DataFrame, *, spike_factor: float = SPIKE_FACTOR
) -> list[QualityResult]:
    """Validate kpi_values (as read from the warehouse); one result per expectation."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        source = context.data_sources.add_pandas("kpis")
        frame = _normalise(raw_kpi_values)
        return [_validate_spikes(source, frame, spike_factor)]
