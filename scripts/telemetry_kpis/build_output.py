"""What ``kpis build`` prints: progress while dbt runs, then a short result.

dbt runs in-process with its console silenced (``--log-level none``); its full log still goes
to ``<log path>/dbt.log``. Progress comes from dbt's structured events (a callback of
``dbtRunner``): ``LogStartLine`` events carry dbt's node count, ``NodeFinished`` marks a node
done. dbt's count is an estimate: dbt-core 1.11's ``build`` adds the selected unit tests once
per worker that starts before the first node ends (268 for 226 nodes on 2 threads), so the last
progress line gives the real number of nodes done. The result is read from dbt's run results:
counts per resource type and status, every warning with a one-line explanation (the test's
description, else dbt's message) and every failure with the node, its message and the command
that shows more.
"""

from __future__ import annotations

import os
import sys
import textwrap
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

#: statuses of a node that passed, warned, failed or was skipped
PASSED = {"success", "pass", "no-op"}
WARNED = {"warn"}
FAILED = {"error", "fail", "runtime error", "partial success"}
#: at most one line per this share of the nodes when the output is not a terminal
PLAIN_STEP = 0.25
#: run results that are not the project's models and tests (hooks, exposures)
SILENT_KINDS = {"operation", "exposure"}
#: the widest line of the result
WIDTH = 120
#: how a resource type is counted: (one, many)
NAMES = {
    "model": ("model", "models"),
    "test": ("data test", "data tests"),
    "unit_test": ("unit test", "unit tests"),
    "seed": ("seed", "seeds"),
    "snapshot": ("snapshot", "snapshots"),
}


def colour_allowed(stream: TextIO) -> bool:
    """ANSI colours only on a terminal, and never with NO_COLOR set."""
    return stream.isatty() and not os.environ.get("NO_COLOR")


def log_file(project: Path) -> Path:
    """Where dbt writes its full log (DBT_LOG_PATH, else ``logs/`` of the project)."""
    folder = os.environ.get("DBT_LOG_PATH") or str(project / "logs")
    return Path(folder) / "dbt.log"


def _one_line(text: str | None, limit: int = 2 * WIDTH) -> str:
    """The text on one line, cut at ``limit`` characters (the log file has the rest)."""
    line = " ".join(str(text or "").split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


@dataclass
class Progress:
    """A dbt callback: "nodes done / total, elapsed" on one line (a terminal), or a plain line
    at every quarter of the nodes (a file or pipe)."""

    stream: TextIO = field(default_factory=lambda: sys.stdout)
    started: float = field(default_factory=time.perf_counter)
    total: int = 0
    done: int = 0
    _next_plain: float = PLAIN_STEP
    _shown: bool = False
    _last_plain: int = -1
    _width: int = 0

    def __call__(self, event: Any) -> None:
        name = event.info.name
        data = event.data
        if name == "LogStartLine":  # "12 of 268 START ...": dbt's count of selected nodes
            first = not self.total
            self.total = max(self.total, int(data.total))
            if first:  # parsing is over: say how much there is to do
                self._show()
        if name == "NodeFinished":
            self.done += 1
            self._show()

    def _text(self, total: int) -> str:
        elapsed = time.perf_counter() - self.started
        of = f"/{total}" if total else ""
        return f"kpis build: {self.done}{of} nodes done, {elapsed:.0f}s"

    def _show(self) -> None:
        if self.stream.isatty():
            self._overwrite(self._text(self.total))
        elif self.total and (self._last_plain < 0 or self.done / self.total >= self._next_plain):
            while self.done / self.total >= self._next_plain:
                self._next_plain += PLAIN_STEP
            self._plain(self._text(self.total))
        self.stream.flush()

    def _overwrite(self, text: str) -> None:
        """Rewrite the terminal's line (spaces cover a longer line before it)."""
        self.stream.write("\r" + text.ljust(self._width))
        self._width = len(text)
        self._shown = True

    def _plain(self, text: str) -> None:
        self.stream.write(text + "\n")
        self._last_plain = self.done

    def finish(self) -> None:
        """The last count (the real number of nodes: dbt's total is an estimate), and end the
        updating line (a terminal) so the result starts on its own line."""
        if self._shown:
            self._overwrite(self._text(self.done))
            self.stream.write("\n")
        elif self.done and self._last_plain != self.done:
            self._plain(self._text(self.done))
        self.stream.flush()


def _explanation(node: Any, message: str | None) -> str:
    """The test's description (or ``meta.explanation``), else dbt's message."""
    description = getattr(node, "description", "") or ""
    meta = getattr(getattr(node, "config", None), "meta", None) or {}
    return _one_line(description or meta.get("explanation") or message, limit=4 * WIDTH)


def _label(node: Any) -> str:
    """``test accepted_values on stg_x.col`` for a generic test, else ``model fct_x``."""
    kind = str(getattr(node.resource_type, "value", node.resource_type))
    metadata = getattr(node, "test_metadata", None)
    attached = getattr(node, "attached_node", None)
    if metadata is not None and attached:
        column = getattr(node, "column_name", None)
        where = attached.split(".")[-1] + (f".{column}" if column else "")
        return f"{kind} {metadata.name} on {where}"
    return f"{kind} {getattr(node, 'name', '?')}"


def _wrapped(first: str, text: str) -> list[str]:
    indent = " " * len(first)
    return textwrap.wrap(
        text, WIDTH, initial_indent=first, subsequent_indent=indent, break_on_hyphens=False
    )


def summarise(results: list[Any], log: Path) -> list[str]:
    """The short result: counts, warnings explained, failures with the command to see more."""
    counts: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    warnings, failures = [], []
    for result in results:
        node = result.node
        status = str(getattr(result.status, "value", result.status))
        kind = str(getattr(node.resource_type, "value", node.resource_type))
        if kind in SILENT_KINDS:
            continue
        counts[kind] += 1
        if status in PASSED:
            statuses["passed"] += 1
        elif status in WARNED:
            statuses["warnings"] += 1
            warnings += _wrapped("  warning: ", f"{_label(node)}: {_one_line(result.message)}")
            warnings += _wrapped("           ", _explanation(node, None))
        elif status in FAILED:
            statuses["failed"] += 1
            failures += _wrapped("  FAILED: ", f"{_label(node)}: {_one_line(result.message)}")
            failures.append(f"          see more: kpis build --verbose --select {node.name}")
        else:
            statuses[status] += 1
    what = ", ".join(f"{n} {NAMES.get(k, (k, k))[n != 1]}" for k, n in sorted(counts.items()))
    tally = ", ".join(
        f"{n} {s[:-1] if n == 1 and s.endswith('s') else s}" for s, n in statuses.items()
    )
    lines = [f"  {what}: {tally}"] if counts else []
    return [*lines, *warnings, *failures, f"  full dbt log: {log}"]
