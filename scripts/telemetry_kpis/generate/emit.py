"""The rows of CLI processes: shared contexts, delivery times, ids, and the noise on top.

A process's events share their environment, project and CLI contexts (the ``head``, built
once per process); the tracker sends them in one batch at exit, so they share the collector
time. The common row (an unstructured event) takes the fast path: ``rng.randrange`` and
``ts`` are inlined there and the row is one call of the fast renderer, with the same random
draws in the same order as the general path (``Emitter.row``).
"""

from __future__ import annotations

from dataclasses import dataclass

from telemetry_kpis.generate.catalogue import ENV_COMMANDS, TRACKER
from telemetry_kpis.generate.contexts import Contexts
from telemetry_kpis.generate.noise import Noise
from telemetry_kpis.generate.output import FLUSH_LINES, Output
from telemetry_kpis.generate.project import Project
from telemetry_kpis.generate.rows import Format, general_values
from telemetry_kpis.generate.shapes import (
    Execution,
    Process,
    add_events,
    state_change_unstruct,
)
from telemetry_kpis.generate.stamps import (
    DAY_MS,
    DAYS,
    HMS,
    MILLI,
    UUID4_KEEP,
    UUID4_SET,
    randrange,
    ts,
    uuid4,
)


@dataclass(slots=True)
class Row:
    """An event outside the fast path (struct events, the lone state change), before timing."""

    true_ms: int
    collector: int
    event_id: str
    tracker: str
    nuid: str
    contexts: str | None
    se_category: str | None = None
    se_action: str | None = None
    se_label: str | None = None
    event: str = "struct"
    unstruct: str | None = None
    vendor: str = "com.google.analytics"
    name: str = "event"
    version: str = "1-0-0"


class Emitter:
    """Emits the rows of a project's CLI processes into ``out``."""

    def __init__(
        self, fmt: Format, ctx: Contexts, out: Output, noise: Noise | None, window_end: int
    ) -> None:
        self.fmt = fmt
        self.ctx = ctx
        self.out = out
        self.noise = noise
        self.window_end = window_end

    def process(self, p: Project, t0: int, proc: Process) -> tuple[int, str]:
        """Emit the events of one CLI process; returns (end ms, environment context uuid)."""
        tc = self._count(p, proc)
        if p.family == "pre2":
            return self._legacy(p, t0, proc, tc)
        rng, ctx = p.rng, self.ctx
        duration = proc.duration_ms if proc.duration_ms is not None else randrange(rng, 800, 9000)
        project_id = proc.project_id or p.project_id
        source = proc.source or p.source
        if project_id not in p.project_ids:
            p.project_ids.append(project_id)
        env_uuid = p.new_id(t0)
        proj_uuid = p.new_id(t0 + 90)
        env_hash = p.env_hash if proc.command in ENV_COMMANDS else None
        env_ctx = ctx.environment(p, env_uuid, proc.parent_env, t0)
        proj_ctx = ctx.project(p, proj_uuid, env_hash, project_id, source)
        usage = proc.outcome == "usage"
        head = f"{ctx.head}{env_ctx},{proj_ctx}{ctx.cli(p, proc, usage)}"
        x = Execution(p, proc, t0, duration, head)
        if p.pending_change is not None and not usage:
            # the first command after a settings change reports it, with its own contexts
            x.events.append(
                (
                    -200,
                    state_change_unstruct(ctx, p.pending_change),
                    None,
                    "telemetry_state_change_event",
                    "1-0-0",
                )
            )
            p.pending_change = None
            proj_plain = ctx.project(p, proj_uuid, None, project_id, source)
            exc = ctx.exception(p, t0 - 200, None)
            x.state_head = f"{ctx.head}{env_ctx},{proj_plain}{exc}"
        add_events(ctx, x)
        end = t0 + duration
        x.collector = end + randrange(rng, 40, 900)
        x.nuid = uuid4(rng)
        self._write(x)
        tc["events"] += len(x.events)
        if p.family in ("v20", "v22") and not usage:
            # Meltano 2.0-2.4 also send the legacy struct event, with the same contexts
            se_cat = f"meltano {proc.command}"
            row = Row(
                true_ms=t0 + 20,
                collector=x.collector,
                event_id=uuid4(rng),
                tracker=TRACKER[p.family],
                nuid=x.nuid,
                contexts=head + "]}",
                se_category=se_cat,
                se_action=self.fmt.enc(proc.cmdline or se_cat),
                se_label=project_id,
            )
            self.row(p, row)
            tc["events"] += 1
        out = self.out
        if len(out.lines) >= FLUSH_LINES and out.fh is not None:
            out.flush(out.fh)
        return end, env_uuid

    def _count(self, p: Project, proc: Process) -> dict[str, int]:
        """Count the execution in the ground truth; returns the command's counters."""
        key = proc.truth_key
        tc = p.truth_commands.get(key)
        if tc is None:
            tc = p.truth_commands[key] = {"executions": 0, "failed": 0, "events": 0}
        tc["executions"] += 1
        if proc.outcome != "ok":
            tc["failed"] += 1
        self.out.executions += 1
        p.executions += 1
        return tc

    def _legacy(self, p: Project, t0: int, proc: Process, tc: dict[str, int]) -> tuple[int, str]:
        """Meltano 1.x: one struct event per command, no contexts."""
        rng = p.rng
        collector = t0 + randrange(rng, 200, 3000)
        se_cat = f"meltano {proc.command}"
        row = Row(
            true_ms=t0,
            collector=collector,
            event_id=uuid4(rng),
            tracker=TRACKER["pre2"],
            nuid=uuid4(rng),
            contexts=None,
            se_category=se_cat,
            se_action=self.fmt.enc(proc.cmdline or se_cat),
            se_label=p.project_id,
        )
        self.row(p, row)
        tc["events"] += 1
        if p.project_id not in p.project_ids:
            p.project_ids.append(p.project_id)
        return collector, ""

    def state_change_only(self, p: Project, t: int) -> None:
        """The first command after opting out: one telemetry_state_change_event, nothing else."""
        change = p.pending_change or ("send_anonymous_usage_stats", True, False)
        p.pending_change = None
        if t >= self.window_end or p.family == "pre2":
            return
        rng, ctx = p.rng, self.ctx
        env_ctx = ctx.environment(p, p.new_id(t), None, t)
        proj_ctx = ctx.project(p, p.new_id(t + 90), None, p.project_id, p.source, send=False)
        unstruct = state_change_unstruct(ctx, change)
        collector = t + randrange(rng, 40, 900)
        tc = p.truth_commands.setdefault(
            "telemetry_state_change", {"executions": 0, "failed": 0, "events": 0}
        )
        tc["events"] += 1
        row = Row(
            true_ms=t,
            collector=collector,
            event_id=uuid4(rng),
            tracker=TRACKER[p.family],
            nuid=uuid4(rng),
            contexts=f"{ctx.head}{env_ctx},{proj_ctx}]}}",
            event="unstruct",
            unstruct=unstruct,
            vendor="com.meltano",
            name="telemetry_state_change_event",
        )
        self.row(p, row)

    def row(self, p: Project, e: Row) -> None:
        """One row of any kind (the general path; ``_write`` inlines the common one)."""
        rng = p.rng
        created = e.true_ms + p.skew_ms
        sent = ((e.collector - 30 + p.skew_ms) // 1000) * 1000
        derived = e.collector - (sent - created) if created < sent else e.collector
        etl = e.collector + randrange(rng, 1500, 9000)
        upload = etl + randrange(rng, 20_000, 300_000)
        noise = self.noise
        nrng = p.nrng
        if noise and nrng.random() < noise.late:
            upload = noise.late_upload(nrng, upload)
        ips = p.ips
        ip = ips[0] if len(ips) == 1 else ips[(e.true_ms // (5 * DAY_MS)) % len(ips)]
        vals = [
            ts(etl),
            ts(e.collector),
            ts(created),
            e.event,
            e.event_id,
            e.tracker,
            ip,
            e.nuid,
            e.contexts,
            e.se_category,
            e.se_action,
            e.se_label,
            e.unstruct,
            p.tz,
            ts(sent),
            ts(derived),
            e.vendor,
            e.name,
            "jsonschema",
            e.version,
        ]
        out = self.out
        out.lines.append(self.fmt.render(vals, ts(upload)))
        out.events += 1
        if noise:
            r = nrng.random()
            if r < noise.extra_max:
                noise.copies(nrng, r, vals, (etl, e.collector, upload))

    def _write(self, x: Execution) -> None:
        """The rows of the events of ``x`` (the fast path)."""
        p = x.p
        getrandbits = p.rng.getrandbits
        nrng = p.nrng
        noise = self.noise
        late = noise.late if noise else 0.0
        extra_max = noise.extra_max if noise else 0.0
        fast, lines = self.fmt.fast, self.out.lines
        collector, skew = x.collector, p.skew_ms
        sent = ((collector - 30 + skew) // 1000) * 1000
        collector_ts, sent_ts = ts(collector), ts(sent)
        tracker, nuid, tz, head, state_head = TRACKER[p.family], x.nuid, p.tz, x.head, x.state_head
        ips = p.ips
        nips, ip = len(ips), ips[0]
        # every time of the process is near the collector's: its day is usually theirs too
        hms, milli = HMS, MILLI
        base = collector - collector % DAY_MS
        day = DAYS[base // DAY_MS]
        t0s = x.t0 + skew  # dvce_created_tstamp = t0s + off
        for off, uns, extra, name, ver in x.events:
            h = "%032x" % (getrandbits(128) & UUID4_KEEP | UUID4_SET)  # noqa: UP031
            event_id = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
            created = t0s + off
            derived = collector - (sent - created) if created < sent else collector
            # rng.randrange(1500, 9000) and rng.randrange(20_000, 300_000), unrolled
            r = getrandbits(13)
            while r >= 7500:
                r = getrandbits(13)
            etl = collector + 1500 + r
            r = getrandbits(19)
            while r >= 280_000:
                r = getrandbits(19)
            upload = etl + 20_000 + r
            if noise and nrng.random() < late:
                upload = noise.late_upload(nrng, upload)
            if nips > 1:
                ip = ips[(created - skew) // (5 * DAY_MS) % nips]
            if extra is None:  # the state change has its own contexts
                ctx_head, ctx_tail = state_head, ""
            else:
                ctx_head, ctx_tail = head, extra
            # ts() inlined for the four per-event timestamps, from the collector's day
            rem = etl - base
            etl_ts = day + hms[rem // 1000] + milli[rem % 1000] if rem < DAY_MS else ts(etl)
            rem = created - base
            created_ts = (
                day + hms[rem // 1000] + milli[rem % 1000] if 0 <= rem < DAY_MS else ts(created)
            )
            rem = derived - base
            derived_ts = day + hms[rem // 1000] + milli[rem % 1000] if rem >= 0 else ts(derived)
            rem = upload - base
            upload_ts = day + hms[rem // 1000] + milli[rem % 1000] if rem < DAY_MS else ts(upload)
            args = (
                etl_ts,
                collector_ts,
                created_ts,
                event_id,
                tracker,
                ip,
                nuid,
                ctx_head,
                ctx_tail,
                uns,
                tz,
                sent_ts,
                derived_ts,
                name,
                ver,
                upload_ts,
            )
            lines.append(fast(*args))
            if noise:
                draw = nrng.random()
                if draw < extra_max:
                    noise.copies(nrng, draw, general_values(args), (etl, collector, upload))
        self.out.events += len(x.events)
