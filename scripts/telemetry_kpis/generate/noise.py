"""Noise: what real telemetry pipelines add to the clean events of the CLI.

Noise never changes the ground truth: malformed rows, unknown schemas and rows without a
project context are *extra* rows (copies with a fresh ``event_id``), duplicates are extra
copies, late arrival only moves ``uploaded_at``, clock skew only moves
``dvce_created_tstamp``. Every draw comes from the project's noise generator, so the clean
events are the same with or without noise.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from telemetry_kpis.generate.catalogue import NOISE_KINDS
from telemetry_kpis.generate.iglu import UNSTRUCT_HEAD, sd
from telemetry_kpis.generate.output import Output
from telemetry_kpis.generate.rows import VAR_COLUMNS, Format
from telemetry_kpis.generate.stamps import DAY_MS, ts, uuid4

#: indexes in the VAR_COLUMNS values of a row
_COL = {name: i for i, name in enumerate(VAR_COLUMNS)}
_ETL, _COLLECTOR = _COL["etl_tstamp"], _COL["collector_tstamp"]
_EVENT, _EVENT_ID, _NUID = _COL["event"], _COL["event_id"], _COL["network_userid"]
_CONTEXTS, _UNSTRUCT, _DERIVED = _COL["contexts"], _COL["unstruct_event"], _COL["derived_tstamp"]
_NAME, _VERSION = _COL["event_name"], _COL["event_version"]

#: the kinds of extra rows besides duplicates, in the order their rates split a draw
_EXTRA_KINDS = ("malformed", "no_project", "unknown_version", "unknown_event")


class Noise:
    """Draws the noise of each event at the given rates (share of events or of projects)."""

    def __init__(self, rates: dict[str, float], fmt: Format, out: Output, window_end: int) -> None:
        self.rates = rates
        #: the cut-off of the snapshot: a late or duplicate copy is delivered by then at the
        #: latest (never later than its original), so a window that ends yesterday holds no
        #: row uploaded in the future (which `kpis load` would reject)
        self.window_end = window_end
        self.late = rates.get("late", 0)
        self.duplicate = rates.get("duplicate", 0)
        #: above this draw no extra row is possible (tiny margin: ``copies`` decides exactly)
        extra = sum(rates.get(k, 0) for k in NOISE_KINDS if k not in ("late", "skew"))
        self.extra_max = extra * (1 + 1e-9) + 1e-12
        self.fmt = fmt
        self.out = out
        enc = fmt.enc
        self._no_project_start = enc('{"schema":"iglu:com.meltano/project_context/')
        self._no_project_end = enc("}},")
        self._unknown_version = enc(
            UNSTRUCT_HEAD
            + sd("cli_event", "1-0-2", '{"event":"started","trigger":"scheduler"}')
            + "}"
        )
        self._unknown_event = enc(
            UNSTRUCT_HEAD + sd("plugin_usage_event", "1-0-0", '{"plugin_count":3}') + "}"
        )

    def late_upload(self, nrng: random.Random, upload: int) -> int:
        """When a late row is uploaded instead of ``upload`` (counted as one late arrival)."""
        self.out.noise_counts["late"] += 1
        delay = nrng.randrange(1, 10) * DAY_MS + nrng.randrange(DAY_MS)
        return min(upload + delay, max(upload, self.window_end - 1))

    def copies(
        self,
        nrng: random.Random,
        r: float,
        vals: Sequence[str | None],
        times: tuple[int, int, int],
    ) -> None:
        """Extra rows for one event given its noise draw ``r`` (below ``extra_max``).

        ``vals`` are the event's VAR_COLUMNS values, ``times`` its (etl, collector, upload) ms.
        """
        if r < self.duplicate:
            self._duplicate(nrng, vals, times)
            return
        r -= self.duplicate
        contexts = vals[_CONTEXTS]
        if vals[_EVENT] != "unstruct" or contexts is None:
            return
        for kind in _EXTRA_KINDS:
            rate = self.rates.get(kind, 0)
            if r >= rate:
                r -= rate
                continue
            bad = list(vals)
            bad[_EVENT_ID] = uuid4(nrng)
            row: dict[str, Any] = {"kind": kind, "event_id": bad[_EVENT_ID]}
            row["copy_of"] = vals[_EVENT_ID]
            if kind == "malformed":
                self._malform(nrng, bad, row, contexts)
            elif kind == "no_project":  # the contexts without the project context
                start = contexts.find(self._no_project_start)
                end = contexts.find(self._no_project_end, start) + len(self._no_project_end)
                bad[_CONTEXTS] = contexts[:start] + contexts[end:]
            elif kind == "unknown_version":
                bad[_UNSTRUCT] = self._unknown_version
                bad[_NAME], bad[_VERSION] = "cli_event", "1-0-2"
            else:
                bad[_UNSTRUCT] = self._unknown_event
                bad[_NAME], bad[_VERSION] = "plugin_usage_event", "1-0-0"
            out = self.out
            out.noise_counts[kind] += 1
            out.lines.append(self.fmt.render(bad, ts(times[2])))
            row["line"] = out.line_no()
            out.noise_rows.append(row)
            out.events += 1
            return

    def _duplicate(
        self, nrng: random.Random, vals: Sequence[str | None], times: tuple[int, int, int]
    ) -> None:
        """The same event delivered again later (same event_id), sometimes re-collected."""
        etl, collector, upload = times
        out = self.out
        out.noise_counts["duplicate"] += 1
        dup = list(vals)
        if nrng.random() < 0.5:
            shift = nrng.randrange(1000, 120_000)
            dup[_COLLECTOR] = ts(collector + shift)
            dup[_ETL] = ts(etl + shift)
        again = min(upload + nrng.randrange(60_000, 2 * DAY_MS), max(upload, self.window_end - 1))
        out.lines.append(self.fmt.render(dup, ts(again)))
        row = {"kind": "duplicate", "event_id": vals[_EVENT_ID], "line": out.line_no()}
        out.noise_rows.append(row)

    def _malform(
        self, nrng: random.Random, bad: list[str | None], row: dict[str, Any], contexts: str
    ) -> None:
        """Break one value of ``bad``: truncated JSON, a bad timestamp or no event_id."""
        how = nrng.choice(["contexts", "unstruct", "derived_tstamp", "event_id"])
        row["how"] = how
        if how == "contexts":
            bad[_CONTEXTS] = contexts[: len(contexts) // 2].rstrip("\\")
        elif how == "unstruct":
            unstruct = bad[_UNSTRUCT] or ""
            bad[_UNSTRUCT] = unstruct[: len(unstruct) - 7].rstrip("\\")
        elif how == "derived_tstamp":
            bad[_DERIVED] = nrng.choice(["not-a-timestamp", "2026-13-45 25:61:00.000", "0"])
        else:
            bad[_EVENT_ID] = None
            row["event_id"] = None
            row["network_userid"] = bad[_NUID]
            row["derived_tstamp"] = bad[_DERIVED]
