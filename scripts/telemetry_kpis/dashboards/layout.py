"""A dashboard's ``position`` (Superset's layout JSON) and ``metadata`` from rows of blocks.

Superset lays a dashboard out on a 12-column grid of rows; a chart block names its chart by
uuid (the importer turns it into the chart id), a Markdown block carries its text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Chart:
    uuid: str
    name: str
    width: int = 8
    height: int = 50


@dataclass(frozen=True)
class Markdown:
    text: str
    width: int = 12
    height: int = 50


Block = Chart | Markdown


def position(title: str, rows: list[list[Block]]) -> dict[str, Any]:
    """The position JSON of a dashboard with these rows (ids numbered in order)."""
    layout: dict[str, Any] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"type": "HEADER", "id": "HEADER_ID", "meta": {"text": title}},
    }
    for r, row in enumerate(rows, start=1):
        row_id = f"ROW-{r}"
        layout["GRID_ID"]["children"].append(row_id)
        layout[row_id] = {
            "type": "ROW",
            "id": row_id,
            "children": [],
            "parents": ["ROOT_ID", "GRID_ID"],
            "meta": {"background": "BACKGROUND_TRANSPARENT"},
        }
        for b, block in enumerate(row, start=1):
            parents = ["ROOT_ID", "GRID_ID", row_id]
            if isinstance(block, Chart):
                block_id = f"CHART-{r}-{b}"
                meta: dict[str, Any] = {
                    "width": block.width,
                    "height": block.height,
                    "chartId": 0,
                    "uuid": block.uuid,
                    "sliceName": block.name,
                }
                kind = "CHART"
            else:
                block_id = f"MARKDOWN-{r}-{b}"
                meta = {"width": block.width, "height": block.height, "code": block.text}
                kind = "MARKDOWN"
            layout[row_id]["children"].append(block_id)
            layout[block_id] = {
                "type": kind,
                "id": block_id,
                "children": [],
                "parents": parents,
                "meta": meta,
            }
    return layout


def metadata(time_range: str | None = None, filter_id: str = "") -> dict[str, Any]:
    """Dashboard metadata; with ``time_range`` a native time filter preset to it."""
    native: list[dict[str, Any]] = []
    if time_range:
        native.append(
            {
                "id": f"NATIVE_FILTER-{filter_id}",
                "name": "Key result timeframe",
                "filterType": "filter_time",
                "type": "NATIVE_FILTER",
                "description": "Preset to the key result's timeframe; clear it for the history.",
                "targets": [{}],
                "controlValues": {"enableEmptyFilter": False},
                "defaultDataMask": {
                    "extraFormData": {"time_range": time_range},
                    "filterState": {"value": time_range},
                    "ownState": {},
                },
                "cascadeParentIds": [],
                "scope": {"rootPath": ["ROOT_ID"], "excluded": []},
                "tabsInScope": [],
            }
        )
    return {
        "color_scheme": "supersetColors",
        "refresh_frequency": 0,
        "expanded_slices": {},
        "label_colors": {},
        "shared_label_colors": [],
        "color_scheme_domain": [],
        "timed_refresh_immune_slices": [],
        "cross_filters_enabled": False,
        "default_filters": "{}",
        "chart_configuration": {},
        "global_chart_configuration": {
            "scope": {"rootPath": ["ROOT_ID"], "excluded": []},
            "chartsInScope": [],
        },
        "native_filter_configuration": native,
    }
