"""Rows of the hostile corpus: files of numbered lines, real events, and fresh copies of them
that can be mutated without touching anything else (new event, execution and project ids)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conftest import REAL_EVENTS

CONTEXTS_SCHEMA = "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0"
UNSTRUCT_SCHEMA = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"

Row = dict[str, Any]


class File:
    """Lines of one file, as bytes, numbered from 1."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lines: list[tuple[bytes, bool]] = []  # (content, crlf)

    def add(self, content: bytes | str | Row, *, crlf: bool = False) -> int:
        if isinstance(content, dict):
            content = dumps(content)
        if isinstance(content, str):
            content = content.encode("utf-8")
        assert b"\n" not in content, "one line per row"
        self.lines.append((content, crlf))
        return len(self.lines)

    def write(self, folder: Path, *, bom: bool = False) -> Path:
        path = folder / self.name
        data = b"".join(line + (b"\r\n" if crlf else b"\n") for line, crlf in self.lines)
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
        return path


def dumps(row: Row) -> str:
    return json.dumps(row, separators=(",", ":"), ensure_ascii=False)


def new_id() -> str:
    return str(uuid.uuid4())


def shift(timestamp: str, **delta: float) -> str:
    value = dt.datetime.fromisoformat(timestamp) + dt.timedelta(**delta)
    return value.isoformat(sep=" ", timespec="milliseconds")


def real_rows() -> list[Row]:
    return [json.loads(line) for line in REAL_EVENTS.read_text().splitlines() if line.strip()]


def contexts_of(row: Row) -> list[Row]:
    return json.loads(row["contexts"])["data"] if row.get("contexts") else []


def unstruct_data(row: Row) -> Row:
    return json.loads(row["unstruct_event"])["data"]["data"]


def context_of(row: Row, name: str) -> Row | None:
    for context in contexts_of(row):
        if f"/{name}/" in context.get("schema", ""):
            return context
    return None


@dataclass
class Fresh:
    """A real row with a fresh event id and a fresh execution and project."""

    row: Row
    execution_id: str
    project_id: str


def fresh_copy(base: Row) -> Fresh:
    row = copy.deepcopy(base)
    row["event_id"] = new_id()
    execution_id, project_id = new_id(), new_id()
    contexts = json.loads(row["contexts"])
    for context in contexts["data"]:
        data = context["data"]
        if "/project_context/" in context["schema"]:
            data.update(context_uuid=execution_id, project_uuid=project_id, client_uuid=new_id())
        elif "/environment_context/" in context["schema"]:
            data.update(context_uuid=new_id(), parent_context_uuid=None)
        elif isinstance(data, dict) and "context_uuid" in data:
            data["context_uuid"] = new_id()
    row["contexts"] = json.dumps(contexts)
    return Fresh(row, execution_id, project_id)


def edit_contexts(row: Row, edit: Callable[[list[Row]], Any]) -> None:
    """Let ``edit`` change the list of context elements in place (or return a new list)."""
    contexts = json.loads(row["contexts"])
    result = edit(contexts["data"])
    if result is not None:
        contexts["data"] = result
    row["contexts"] = json.dumps(contexts)


def edit_context(row: Row, name: str, edit: Callable[[Row], None]) -> None:
    """Let ``edit`` change the first context element of that schema name (the whole element)."""

    def apply(elements: list[Row]) -> None:
        for element in elements:
            if f"/{name}/" in element.get("schema", ""):
                edit(element)
                return
        raise AssertionError(f"no {name} in the base row")

    edit_contexts(row, apply)


def edit_event_data(row: Row, edit: Callable[[Row], None]) -> None:
    unstruct = json.loads(row["unstruct_event"])
    edit(unstruct["data"]["data"])
    row["unstruct_event"] = json.dumps(unstruct)


def strings_changed(value: Any, change: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, list):
        return [strings_changed(item, change) for item in value]
    if isinstance(value, dict):
        return {key: strings_changed(item, change) for key, item in value.items()}
    return value


def tsv_line(row: Row, columns: list[str], *, drop_last: bool = False) -> str:
    values = ["" if row.get(column) is None else str(row[column]) for column in columns]
    for value in values:
        assert "\t" not in value and "\n" not in value and "\r" not in value
    if drop_last:
        values = values[:-1]
    return "\t".join(values)
