"""Data-quality suites on ``marts.kpi_values`` with great-expectations.

An ephemeral great-expectations context validates pandas DataFrames (the DuckDB SQLAlchemy path
of great-expectations 1.x fails every expectation upstream, so the table is read into pandas
first, on every engine alike). The suites:

* ``kpi_values``: (metric_name, grain, period_start) is unique; keys, period_end and
  is_complete are not null; grain is day, week or month.
* ``rates``: rate metrics (``pipeline_success_rate``, ``bad_event_share``, ...) lie in [0, 1]
  (null allowed: a rate without a denominator).
* ``counts``: count metrics are not null and >= 0.
* ``series``: every (metric_name, grain) series has no gap between consecutive periods, and
  each period is aligned to its grain (weeks start on Monday, months on the 1st, period_end is
  the period's last day).

Every failed expectation is an alarm in ``kpis check``.
"""

from __future__ import annotations

import logging
import os
import warnings
from typing import Any

import pandas as pd

from telemetry_kpis.definitions import metrics
from telemetry_kpis.evaluate import QualityResult

GRAINS = ("day", "week", "month")


def _normalise(raw: pd.DataFrame) -> pd.DataFrame:
    """Uniform types, nulls kept."""
    frame = raw.copy()
    for column in ("period_start", "period_end"):
        frame[column] = pd.to_datetime(frame[column]).dt.tz_localize(None).dt.normalize()
    frame["value"] = pd.to_numeric(
        frame["value"].map(lambda v: None if v is None else float(v)), errors="coerce"
    ).astype(float)
    frame["is_complete"] = frame["is_complete"].astype(object)
    return frame


def _month_index(stamps: pd.Series) -> pd.Series:
    return stamps.dt.year * 12 + stamps.dt.month


def series_steps(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per kpi_values row: missing periods since the previous one, and alignment."""
    frame = frame.dropna(subset=["metric_name", "grain", "period_start"])
    frame = frame[frame["grain"].isin(GRAINS)].sort_values(["metric_name", "grain", "period_start"])
    previous = frame.groupby(["metric_name", "grain"])["period_start"].shift(1)
    days = (frame["period_start"] - previous).dt.days
    grain = frame["grain"]
    missing = pd.Series(0.0, index=frame.index)
    missing = missing.mask(grain == "day", days - 1)
    missing = missing.mask(grain == "week", days / 7 - 1)
    missing = missing.mask(
        grain == "month", _month_index(frame["period_start"]) - _month_index(previous) - 1
    )
    missing = missing.where(previous.notna(), 0.0)

    start, end = frame["period_start"], frame["period_end"]
    expected_end = start.copy()
    expected_end = expected_end.mask(grain == "week", start + pd.Timedelta(days=6))
    expected_end = expected_end.mask(grain == "month", start + pd.offsets.MonthEnd(0))
    aligned = (end == expected_end) & (
        (grain == "day")
        | ((grain == "week") & (start.dt.day_of_week == 0))
        | ((grain == "month") & (start.dt.day == 1))
    )
    return pd.DataFrame(
        {
            "metric_name": frame["metric_name"],
            "grain": grain,
            "period_start": start,
            "missing_periods": missing.astype(float),
            "is_aligned": aligned.astype(bool),
        }
    )


def _suites(frame: pd.DataFrame) -> list[tuple[str, pd.DataFrame, list[tuple[Any, str]]]]:
    import great_expectations.expectations as gxe

    rate_metrics = [m for m, info in metrics().items() if info.kind == "rate"]
    count_metrics = [m for m, info in metrics().items() if info.kind == "count"]
    key = ["metric_name", "grain", "period_start"]
    return [
        (
            "kpi_values",
            frame,
            [
                (
                    gxe.ExpectCompoundColumnsToBeUnique(column_list=key),
                    "(metric_name, grain, period_start) is unique",
                ),
                *[
                    (gxe.ExpectColumnValuesToNotBeNull(column=c), f"{c} is not null")
                    for c in (*key, "period_end", "is_complete")
                ],
                (
                    gxe.ExpectColumnValuesToBeInSet(column="grain", value_set=list(GRAINS)),
                    "grain is day, week or month",
                ),
            ],
        ),
        (
            "rates",
            frame[frame["metric_name"].isin(rate_metrics)],
            [
                (
                    gxe.ExpectColumnValuesToBeBetween(column="value", min_value=0, max_value=1),
                    "rates lie in [0, 1]",
                )
            ],
        ),
        (
            "counts",
            frame[frame["metric_name"].isin(count_metrics)],
            [
                (gxe.ExpectColumnValuesToNotBeNull(column="value"), "counts are not null"),
                (
                    gxe.ExpectColumnValuesToBeBetween(column="value", min_value=0),
                    "counts are >= 0",
                ),
            ],
        ),
        (
            "series",
            series_steps(frame),
            [
                (
                    gxe.ExpectColumnValuesToBeBetween(
                        column="missing_periods", min_value=0, max_value=0
                    ),
                    "no gaps in any series",
                ),
                (
                    gxe.ExpectColumnValuesToBeInSet(column="is_aligned", value_set=[True]),
                    "periods aligned to their grain (Monday weeks, calendar months, period_end)",
                ),
            ],
        ),
    ]


def _examples(frame: pd.DataFrame, name: str, expectation: Any) -> str:
    """Up to three offending keys, so the reader knows where to look."""
    config = {
        key: getattr(expectation, key, None)
        for key in ("column", "value_set", "min_value", "max_value")
    }
    column = config["column"]
    bad = pd.DataFrame()
    if name == "series":
        if column == "missing_periods":
            bad = frame[frame["missing_periods"] != 0]
        else:
            bad = frame[~frame["is_aligned"]]
    elif column and config["value_set"]:
        bad = frame[~frame[column].isin(config["value_set"])]
    elif column and (config["min_value"] is not None or config["max_value"] is not None):
        low, high = config["min_value"], config["max_value"]
        values = frame[column]
        mask = pd.Series(False, index=frame.index)
        if low is not None:
            mask |= values < low
        if high is not None:
            mask |= values > high
        bad = frame[mask]
    elif column:
        bad = frame[frame[column].isna()]
    else:
        bad = frame[frame.duplicated(subset=["metric_name", "grain", "period_start"], keep=False)]
    shown = []
    for _, row in bad.head(3).iterrows():
        start = row.get("period_start")
        start = start.date().isoformat() if isinstance(start, pd.Timestamp) else start
        shown.append(f"{row.get('metric_name')}/{row.get('grain')}/{start}")
    return ", ".join(str(s) for s in shown)


def run_quality(raw_kpi_values: pd.DataFrame) -> list[QualityResult]:
    """Validate kpi_values (as read from the warehouse); one result per expectation."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        frame = _normalise(raw_kpi_values)
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        source = context.data_sources.add_pandas("kpis")
        results: list[QualityResult] = []
        for name, data, expectations in _suites(frame):
            batch = (
                source.add_dataframe_asset(name)
                .add_batch_definition_whole_dataframe(f"{name}_all")
                .get_batch(batch_parameters={"dataframe": data.reset_index(drop=True)})
            )
            for expectation, description in expectations:
                outcome = batch.validate(expectation, result_format="SUMMARY")
                info = outcome.result or {}
                raised = (outcome.exception_info or {}).get("raised_exception", False)
                failed = int(info.get("unexpected_count") or 0)
                details = ""
                if raised:
                    details = str(outcome.exception_info.get("exception_message", ""))[:200]
                elif not outcome.success:
                    details = _examples(data, name, expectation)
                column = getattr(expectation, "column", None)
                suffix = f" [{column}]" if column else ""
                results.append(
                    QualityResult(
                        name=f"{name}: {outcome.expectation_config.type}{suffix}",
                        description=description,
                        success=bool(outcome.success),
                        checked=int(info.get("element_count") or len(data)),
                        failed=failed,
                        details=details,
                    )
                )
        return results
