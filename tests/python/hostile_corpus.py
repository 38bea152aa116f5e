"""A hostile corpus: real Meltano CLI events, each mutated into one "kind" of bad or odd row.

``build_hostile_corpus(folder)`` writes three files made from the real events of
real_cli_events.jsonl:

* ``hostile_events.jsonl``: ~30 untouched real events (whole executions) and one row per kind,
  with a UTF-8 byte order mark before the first line, CRLF endings on some lines and blank or
  whitespace-only lines in between;
* ``hostile_events_second.jsonl``: what needs a second file (an exact copy of a row of the
  first file);
* ``hostile_events.tsv``: Snowplow enriched TSV (one good row, one row of 130 fields).

Every mutated row gets a fresh ``event_id`` and a fresh execution (new
``project_context.context_uuid``, ``environment_context.context_uuid``, ``project_uuid`` and
``client_uuid``), so each kind's fate is independent of the others and of the untouched events.
Every ``uploaded_at`` is in the past (the real row's own) except where the kind is about it.

Each kind is a :class:`HostileKind`: its name, its expected fate, the event id (or, for a row
without one, its file and line) and what else the contract says about it. Fates:

* ``rejected:<reason>``: ``kpis load`` rejects the line (raw.snowplow_events_rejected);
* ``quarantined:<reason>``: staging.stg_snowplow__events_quarantine;
* ``duplicate``: a dropped copy (staging.stg_snowplow__events_duplicates);
* ``execution``: parsed, and its execution (``execution_id``) is in marts.fct_cli_executions;
* ``not_execution``: parsed, and not an execution.

The kinds are written by family (hostile_kinds_refused.py: rejected or quarantined;
hostile_kinds_parsed.py: parsed), recorded by hostile_builder.py, from the rows of
hostile_rows.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import hostile_kinds_parsed as parsed
import hostile_kinds_refused as refused
from hostile_builder import Builder, HostileKind
from hostile_kinds_parsed import IPV4, IPV6
from hostile_rows import fresh_copy

__all__ = ["HostileCorpus", "HostileKind", "build_hostile_corpus", "iter_kind_rows"]

#: The families of kinds, in the order they are written to the main file (each after a
#: share of the untouched events and before a blank line).
KIND_WRITERS: list[Callable[[Builder], None]] = [
    refused.rejected_by_the_load,
    refused.missing_event_id,
    refused.invalid_json,
    refused.invalid_timestamp,
    refused.implausible_timestamp,
    refused.unknown_event,
    refused.missing_project_context,
    parsed.odd_values,
    parsed.odd_text,
    parsed.duplicates,
    parsed.legacy_and_state,
]


@dataclass
class HostileCorpus:
    """The files (in load order) and the kinds they hold."""

    files: list[Path]
    kinds: list[HostileKind]
    #: (file name, line) of the blank and whitespace-only lines: ignored, no fate
    blank_lines: list[tuple[str, int]]
    #: event ids of the untouched real events
    untouched_event_ids: list[str]
    #: lines (not blank) in all files: each is either a raw row or a rejected line
    line_count: int
    ip_addresses: tuple[str, ...] = (IPV4, IPV6)

    def by_fate(self, fate_kind: str) -> list[HostileKind]:
        return [kind for kind in self.kinds if kind.fate_kind == fate_kind]

    @property
    def rejected_count(self) -> int:
        return len(self.by_fate("rejected"))


def build_hostile_corpus(folder: Path) -> HostileCorpus:
    """Write the hostile files into ``folder``; the files (load them in this order) and kinds."""
    folder.mkdir(parents=True, exist_ok=True)
    builder = Builder(folder)
    # line 1 (after the byte order mark): an ordinary event that must load
    builder.add("bom_first_line", "execution", fresh_copy(builder.started))
    untouched = builder.untouched()
    # untouched events between the kinds, some with CRLF, some blank lines in between
    chunk = max(1, len(untouched) // len(KIND_WRITERS))
    for number, writer in enumerate(KIND_WRITERS):
        for index, row in enumerate(untouched[number * chunk : (number + 1) * chunk]):
            builder.main.add(row, crlf=index % 3 == 0)
        writer(builder)
        builder.blank("" if number % 2 else " \t ")
    for row in untouched[len(KIND_WRITERS) * chunk :]:
        builder.main.add(row)
    parsed.tsv_rows(builder)
    paths = [
        builder.main.write(folder, bom=True),
        builder.second.write(folder),
        builder.tsv.write(folder),
    ]
    lines = sum(len(f.lines) for f in (builder.main, builder.second, builder.tsv))
    return HostileCorpus(
        files=paths,
        kinds=builder.kinds,
        blank_lines=builder.blank_lines,
        untouched_event_ids=[row["event_id"] for row in untouched],
        line_count=lines - len(builder.blank_lines),
    )


def iter_kind_rows(corpus: HostileCorpus) -> Iterator[tuple[HostileKind, bytes]]:
    """Each kind with the raw bytes of its line (for loading a kind alone)."""
    lines = {}
    for path in corpus.files:
        data = path.read_bytes()
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        for number, line in enumerate(data.split(b"\n"), start=1):
            lines[(path.name, number)] = line
    for kind in corpus.kinds:
        yield kind, lines[(kind.source_file, kind.source_line)]
