"""Chart YAML of the bundle: a KPI series over time, its current value, a health metric.

Each chart carries its ``params`` (what Superset's editor shows and dashboards render) and a
saved ``query_context`` (what ``GET /api/v1/chart/<id>/data/``, reports and thumbnails run),
built the way Superset's own front end builds them for these chart types. Series are read from
``marts.kpi_values`` (or ``kpi_values_by_segment``) filtered on ``metric_name`` and ``grain``;
rows are unique per period, so ``MAX(value)`` returns each period's value unchanged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

#: Superset's number formats by the registry's metric kind.
NUMBER_FORMATS = {"count": ",d", "rate": ".1%", "hours": ",.1f", "ratio": ",.2f"}
#: Date labels of the time axis by grain.
DATE_FORMATS = {"day": "%Y-%m-%d", "week": "%Y-%m-%d", "month": "%Y-%m"}
TIME_AXIS = "period_start"
ROW_LIMIT = 10000
NO_FILTER = "No filter"
VERSION = "1.0.0"


@dataclass(frozen=True)
class Line:
    """A horizontal line drawn on a time-series chart (a formula annotation)."""

    name: str
    value: float
    color: str
    style: str = "dashed"


@dataclass(frozen=True)
class Series:
    """One series of a KPI table: the rows of ``table`` with these column values."""

    table: str
    metric_name: str
    grain: str
    label: str
    kind: str
    extra_filters: tuple[tuple[str, str], ...] = ()
    lines: tuple[Line, ...] = field(default=())

    def filters(self) -> list[tuple[str, str]]:
        return [("metric_name", self.metric_name), ("grain", self.grain), *self.extra_filters]


def _metric(label: str) -> dict[str, Any]:
    return {
        "expressionType": "SQL",
        "sqlExpression": "MAX(value)",
        "label": label,
        "hasCustomLabel": True,
        "optionName": "metric_kpi_value",
    }


def _adhoc_filters(series: Series, *, complete_only: bool = False) -> list[dict[str, Any]]:
    filters = [
        {
            "clause": "WHERE",
            "comparator": value,
            "expressionType": "SIMPLE",
            "operator": "==",
            "subject": column,
            "filterOptionName": f"filter_{column}",
            "isExtra": False,
            "isNew": False,
        }
        for column, value in series.filters()
    ]
    if complete_only:
        filters.append(
            {
                "clause": "WHERE",
                "comparator": None,
                "expressionType": "SIMPLE",
                "operator": "IS TRUE",
                "subject": "is_complete",
                "filterOptionName": "filter_is_complete",
                "isExtra": False,
                "isNew": False,
            }
        )
    filters.append(
        {
            "clause": "WHERE",
            "comparator": NO_FILTER,
            "expressionType": "SIMPLE",
            "operator": "TEMPORAL_RANGE",
            "subject": TIME_AXIS,
            "filterOptionName": f"filter_{TIME_AXIS}",
            "isExtra": False,
            "isNew": False,
        }
    )
    return filters


def _query_filters(series: Series, *, complete_only: bool = False) -> list[dict[str, Any]]:
    filters: list[dict[str, Any]] = [
        {"col": column, "op": "==", "val": value} for column, value in series.filters()
    ]
    if complete_only:
        filters.append({"col": "is_complete", "op": "IS TRUE"})
    filters.append({"col": TIME_AXIS, "op": "TEMPORAL_RANGE", "val": NO_FILTER})
    return filters


def _annotation(line: Line) -> dict[str, Any]:
    return {
        "name": line.name,
        "annotationType": "FORMULA",
        "sourceType": "",
        "value": f"{line.value:g}",
        "overrides": {"time_range": None},
        "show": True,
        "showLabel": True,
        "showMarkers": False,
        "hideLine": False,
        "titleColumn": "",
        "descriptionColumns": [],
        "timeColumn": "",
        "intervalEndColumn": "",
        "color": line.color,
        "opacity": "",
        "style": line.style,
        "width": 2,
    }


def _query_context(params: dict[str, Any], series: Series, *, complete_only: bool = False) -> str:
    label = series.label
    query = {
        "filters": _query_filters(series, complete_only=complete_only),
        "extras": {"having": "", "where": ""},
        "applied_time_extras": {},
        "columns": [
            {
                "columnType": "BASE_AXIS",
                "sqlExpression": TIME_AXIS,
                "label": TIME_AXIS,
                "expressionType": "SQL",
            }
        ],
        "metrics": [_metric(label)],
        "orderby": [],
        "annotation_layers": [],
        "row_limit": ROW_LIMIT,
        "series_columns": [],
        "series_limit": 0,
        "order_desc": True,
        "url_params": {},
        "custom_params": {},
        "custom_form_data": {},
        "time_offsets": [],
        "post_processing": [
            {
                "operation": "pivot",
                "options": {
                    "index": [TIME_AXIS],
                    "columns": [],
                    "aggregates": {label: {"operator": "mean"}},
                    "drop_missing_columns": False,
                },
            },
            {"operation": "flatten"},
        ],
    }
    context = {
        "datasource": {"id": 0, "type": "table"},
        "force": False,
        "queries": [query],
        "form_data": params,
        "result_format": "json",
        "result_type": "full",
    }
    return json.dumps(context, sort_keys=True)


def _base_params(viz_type: str, series: Series) -> dict[str, Any]:
    return {
        "datasource": "0__table",
        "viz_type": viz_type,
        "x_axis": TIME_AXIS,
        "time_grain_sqla": None,
        "metrics": [_metric(series.label)],
        "groupby": [],
        "adhoc_filters": _adhoc_filters(series),
        "row_limit": ROW_LIMIT,
        "extra_form_data": {},
        "dashboards": [],
    }


def timeseries_chart(name: str, series: Series) -> dict[str, Any]:
    """A line chart of the series, with its lines (start, target, range bounds)."""
    params = _base_params("echarts_timeseries_line", series)
    number_format = NUMBER_FORMATS.get(series.kind, "SMART_NUMBER")
    params.update(
        {
            "x_axis_sort_asc": True,
            "x_axis_time_format": DATE_FORMATS.get(series.grain, "smart_date"),
            "y_axis_format": number_format,
            "tooltipTimeFormat": DATE_FORMATS.get(series.grain, "smart_date"),
            "rich_tooltip": True,
            "show_legend": True,
            "legendOrientation": "top",
            "legendType": "scroll",
            "markerEnabled": True,
            "markerSize": 4,
            "show_empty_columns": True,
            "truncate_metric": True,
            "zoomable": False,
            "annotation_layers": [_annotation(line) for line in series.lines],
        }
    )
    return {
        "slice_name": name,
        "viz_type": params["viz_type"],
        "params": params,
        "query_context": _query_context(params, series),
    }


def big_number_chart(name: str, series: Series, subheader: str) -> dict[str, Any]:
    """The latest complete value of the series, with its trend line."""
    params = _base_params("big_number", series)
    params["metric"] = params.pop("metrics")[0]
    params["adhoc_filters"] = _adhoc_filters(series, complete_only=True)
    params.update(
        {
            "show_trend_line": True,
            "start_y_axis_at_zero": False,
            "compare_lag": 1,
            "compare_suffix": "vs previous period",
            "subheader": subheader,
            "y_axis_format": NUMBER_FORMATS.get(series.kind, "SMART_NUMBER"),
            "time_format": "smart_date",
            "header_font_size": 0.3,
            "subheader_font_size": 0.125,
            "rolling_type": "None",
        }
    )
    return {
        "slice_name": name,
        "viz_type": params["viz_type"],
        "params": params,
        "query_context": _query_context(params, series, complete_only=True),
    }
