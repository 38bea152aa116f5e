"""Data-quality checks on ``marts.kpi_values`` with great-expectations, when ``kpis check`` runs.

The invariants of the table's shape are dbt data tests, run by every ``kpis build``, and are
not repeated here: one row per (metric_name, grain, period_start), no null key, period_end or
is_complete, grain in day/week/month (``models/marts/kpis/kpi_values.yml``); every series
without a gap, each period aligned to its grain (``assert_kpi_values_no_gaps``); exactly the
registry's metrics at their grains, counts never null
(``assert_kpi_values_publish_every_metric``); unique keys (``assert_kpi_values_unique``).

What great-expectations checks are the values against their kind in the metric registry:

* ``rates``: rate metrics lie in [0, 1] (null allowed: a rate without a denominator);
* ``counts``: count metrics are >= 0.

No dbt test bounds the values of kpi_values, so these run here, on the table as ``kpis check``
reads it. An ephemeral context validates pandas DataFrames: the DuckDB SQLAlchemy path of
great-expectations 1.x fails every expectation upstream, so the table is read into pandas
first, on every engine alike. Every failed expectation is an alarm in ``kpis check``.
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass
from typing import Any

import pandas as pd

from telemetry_kpis.definitions import metrics
from telemetry_kpis.results import QualityResult


@dataclass(frozen=True)
class ValueRange:
    """An expectation on ``value`` for the metrics of one registry kind."""

    suite: str
    kind: str
    description: str
    min_value: float | None
    max_value: float | None


RANGES = (
    ValueRange("rates", "rate", "rates lie in [0, 1]", 0, 1),
    ValueRange("counts", "count", "counts are >= 0", 0, None),
)


def _normalise(raw: pd.DataFrame) -> pd.DataFrame:
    """Dates as Timestamps and values as floats (PostgreSQL numerics arrive as Decimal)."""
    frame = raw.copy()
    frame["period_start"] = pd.to_datetime(frame["period_start"]).dt.tz_localize(None)
    frame["value"] = pd.to_numeric(
        frame["value"].map(lambda v: None if v is None else float(v)), errors="coerce"
    ).astype(float)
    return frame


def _examples(data: pd.DataFrame, check: ValueRange) -> str:
    """Up to three offending keys, so the reader knows where to look."""
    values = data["value"]
    bad = pd.Series(False, index=data.index)
    if check.min_value is not None:
        bad |= values < check.min_value
    if check.max_value is not None:
        bad |= values > check.max_value
    return ", ".join(
        f"{row.metric_name}/{row.grain}/{_day(row.period_start)}"
        for row in data[bad].head(3).itertuples()
    )


def _day(stamp: Any) -> str:
    return "None" if pd.isna(stamp) else pd.Timestamp(stamp).date().isoformat()


def _validate(source: Any, frame: pd.DataFrame, check: ValueRange) -> QualityResult:
    import great_expectations.expectations as gxe

    kinds = {name: metric.kind for name, metric in metrics().items()}
    data = frame[frame["metric_name"].map(kinds) == check.kind].reset_index(drop=True)
    batch = (
        source.add_dataframe_asset(check.suite)
        .add_batch_definition_whole_dataframe(f"{check.suite}_all")
        .get_batch(batch_parameters={"dataframe": data})
    )
    expectation = gxe.ExpectColumnValuesToBeBetween(
        column="value", min_value=check.min_value, max_value=check.max_value
    )
    outcome = batch.validate(expectation, result_format="SUMMARY")
    info = outcome.result or {}
    exception = outcome.exception_info or {}
    if exception.get("raised_exception", False):
        details = str(exception.get("exception_message", ""))[:200]
    else:
        details = "" if outcome.success else _examples(data, check)
    return QualityResult(
        name=f"{check.suite}: {outcome.expectation_config.type} [value]",
        description=check.description,
        success=bool(outcome.success),
        checked=int(info.get("element_count") or len(data)),
        failed=int(info.get("unexpected_count") or 0),
        details=details,
    )


def run_quality(raw_kpi_values: pd.DataFrame) -> list[QualityResult]:
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
        return [_validate(source, frame, check) for check in RANGES]
