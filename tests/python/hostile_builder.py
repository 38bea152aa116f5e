"""The builder of the hostile corpus: the files being written and the kinds recorded so far
(:class:`HostileKind`), with the real events the kinds are mutated from."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conftest import REAL_EVENTS
from hostile_rows import File, Fresh, Row, context_of, real_rows, unstruct_data

MAIN_FILE = "hostile_events.jsonl"
SECOND_FILE = "hostile_events_second.jsonl"
TSV_FILE = "hostile_events.tsv"

#: untouched real events in the main file (whole executions, at least this many events)
UNTOUCHED_EVENTS = 30


@dataclass(frozen=True)
class HostileKind:
    """One kind of hostile row and its expected fate."""

    name: str
    #: ``rejected:<reason>``, ``quarantined:<reason>``, ``duplicate``, ``execution`` or
    #: ``not_execution``
    fate: str
    #: the row's event_id as written (None when the row has none or is not an event)
    event_id: str | None
    #: where the row is: file name and 1-based line number in that file
    source_file: str
    source_line: int
    #: for ``execution``: the execution it must make (project_context.context_uuid, or the
    #: event_id of a pure legacy struct event); for ``not_execution``: the context_uuid that
    #: must NOT be an execution
    execution_id: str | None = None
    #: the row is one of two identical copies: either copy may be the one kept
    either_copy: bool = False
    #: columns of its execution in marts.fct_cli_executions and their expected values
    execution_expect: Mapping[str, Any] = field(default_factory=dict)
    #: its project (marts.dim_projects.project_id) and the expected values of some columns
    project_id: str | None = None
    project_expect: Mapping[str, Any] = field(default_factory=dict)

    @property
    def fate_kind(self) -> str:
        return self.fate.split(":", 1)[0]

    @property
    def reason(self) -> str | None:
        return self.fate.split(":", 1)[1] if ":" in self.fate else None


class Builder:
    """Writes the corpus files line by line and records the kind of each mutated row."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.rows = real_rows()
        self.atomic_columns = list(self.rows[0].keys())[:131]
        assert self.atomic_columns[-1] == "true_tstamp", self.atomic_columns[-5:]
        self.main = File(MAIN_FILE)
        self.second = File(SECOND_FILE)
        self.tsv = File(TSV_FILE)
        self.kinds: list[HostileKind] = []
        self.blank_lines: list[tuple[str, int]] = []
        self._pick_bases()

    # bases ------------------------------------------------------------------------------------
    def _first(self, test: Callable[[Row], bool], what: str) -> Row:
        for row in self.rows:
            if test(row):
                return row
        raise AssertionError(f"no {what} in {REAL_EVENTS}")

    def _pick_bases(self) -> None:
        def cli(event: str) -> Callable[[Row], bool]:
            return lambda r: r["event_name"] == "cli_event" and unstruct_data(r)["event"] == event

        self.started = self._first(cli("started"), "cli_event started")
        self.inflight = self._first(
            lambda r: cli("inflight")(r) and context_of(r, "plugins_context") is not None,
            "cli_event inflight with plugins",
        )
        self.exit_event = self._first(
            lambda r: r["event_name"] == "exit_event" and unstruct_data(r)["exit_code"] == 0,
            "successful exit_event",
        )
        self.opt_out = self._first(
            lambda r: (
                r["event_name"] == "telemetry_state_change_event"
                and unstruct_data(r)["changed_to"] is False
            ),
            "opt-out telemetry_state_change_event",
        )

    # helpers ----------------------------------------------------------------------------------
    def kind(
        self,
        name: str,
        fate: str,
        row: Row | None,
        line: int,
        *,
        file: File | None = None,
        fresh: Fresh | None = None,
        event_id: str | None = None,
        **extra: Any,
    ) -> HostileKind:
        file = file or self.main
        if event_id is None and row is not None:
            event_id = row.get("event_id")
        if fresh is not None and fate in ("execution", "not_execution"):
            extra.setdefault("execution_id", fresh.execution_id)
        if fresh is not None and extra.get("project_expect"):
            extra.setdefault("project_id", fresh.project_id)
        kind = HostileKind(
            name=name,
            fate=fate,
            event_id=event_id if isinstance(event_id, str) else None,
            source_file=file.name,
            source_line=line,
            **extra,
        )
        assert name not in {k.name for k in self.kinds}, name
        self.kinds.append(kind)
        return kind

    def add(
        self, name: str, fate: str, fresh: Fresh, *, crlf: bool = False, **extra: Any
    ) -> HostileKind:
        """Write a fresh (already mutated) row to the main file as one kind."""
        line = self.main.add(fresh.row, crlf=crlf)
        return self.kind(name, fate, fresh.row, line, fresh=fresh, **extra)

    def blank(self, text: str = "") -> None:
        line = self.main.add(text)
        self.blank_lines.append((self.main.name, line))

    def untouched(self) -> list[Row]:
        """Whole executions of real events, at least UNTOUCHED_EVENTS events."""
        by_execution: dict[str, list[Row]] = {}
        for row in self.rows:
            project = context_of(row, "project_context")
            assert project is not None, "every real event has a project context"
            by_execution.setdefault(project["data"]["context_uuid"], []).append(row)
        chosen: list[Row] = []
        for events in by_execution.values():
            if len(chosen) >= UNTOUCHED_EVENTS:
                break
            chosen.extend(events)
        return [copy.deepcopy(row) for row in chosen]
