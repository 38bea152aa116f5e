"""Synthetic Meltano CLI telemetry: project lifecycles -> CLI processes -> Snowplow rows.

Each project has its own ``random.Random`` seeded from (seed, project index), so the rows of a
project never depend on the others or on how the projects are split between processes: a
``Generator`` can produce any range of projects and the ranges simply concatenate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telemetry_kpis.generate.contexts import Contexts
from telemetry_kpis.generate.emit import Emitter
from telemetry_kpis.generate.lifecycle import Life
from telemetry_kpis.generate.noise import Noise
from telemetry_kpis.generate.output import Output
from telemetry_kpis.generate.project import make_project
from telemetry_kpis.generate.rows import Format
from telemetry_kpis.generate.stamps import DAY_MS


@dataclass(frozen=True)
class Options:
    """What the output depends on, besides the range of projects."""

    seed: int
    days: int
    start_ms: int  # the start of the window (epoch ms, UTC midnight)
    fmt: str  # jsonl or tsv
    noise: dict[str, float]  # kind -> rate (see catalogue.NOISE_KINDS)


class Generator:
    """Generates the rows of a range of projects into ``out``."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.fmt = Format(options.fmt)
        self.out = Output()
        window_end = options.start_ms + options.days * DAY_MS
        noise = Noise(options.noise, self.fmt, self.out, window_end) if options.noise else None
        self.emitter = Emitter(self.fmt, Contexts(self.fmt), self.out, noise, window_end)

    def simulate(self, index: int) -> dict[str, Any]:
        """Emit the rows of project ``index``; returns its ground truth."""
        s = self.options
        p = make_project(s.seed, index, s.start_ms, s.days, s.noise.get("skew", 0))
        if p.skew_ms:
            self.out.noise_counts["skew"] += 1
        Life(self.emitter, p).run()
        return p.truth()
