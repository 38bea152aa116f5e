"""How projects behave over time: the day-by-day CLI usage of each archetype.

An archetype is a kind of real Meltano user (abandoned after setup, daily pipelines, CI jobs
on fresh checkouts, opting out of telemetry, ...): the KPIs must classify each correctly, and
the ground truth says which archetype produced which project. Commands outside the window or
while telemetry is off send nothing.
"""

from __future__ import annotations

from functools import cache

from telemetry_kpis.generate.catalogue import EMPTY_TUPLE_HASH, OPTIONS, PLUGIN_POOL
from telemetry_kpis.generate.emit import Emitter
from telemetry_kpis.generate.iglu import sha
from telemetry_kpis.generate.project import Pipeline, Project
from telemetry_kpis.generate.shapes import Process
from telemetry_kpis.generate.stamps import DAY_MS, HOUR_MS, MIN_MS, randrange


@cache
def blocks_hash(blocks: tuple[str, ...]) -> str:
    """The `blocks` option of `meltano run` (hashed like the CLI; few pipelines, so cached)."""
    return sha(repr(blocks))


class Life:
    """The day-by-day behaviour of one project, by archetype."""

    def __init__(self, emitter: Emitter, p: Project) -> None:
        self.emitter = emitter
        self.p = p
        self.rng = p.rng
        self.end = emitter.window_end

    def at(self, day_ms: int, hour: float) -> int:
        return day_ms + int(hour * HOUR_MS) + randrange(self.rng, 0, MIN_MS)

    def cmd(self, t: int, proc: Process) -> int:
        """Run one command at t (if telemetry is on and t is in the window); returns next t."""
        if t >= self.end:
            return t
        if not proc.cmdline:
            proc.cmdline = " ".join(x for x in ("meltano", proc.command, proc.sub or "") if x)
        if not self.p.telemetry_on:
            return t + 5000
        end, _ = self.emitter.process(self.p, t, proc)
        return end + randrange(self.rng, 20_000, 600_000)

    def run_pipeline(
        self,
        t: int,
        pl: Pipeline,
        fail: bool = False,
        project_id: str | None = None,
        source: str | None = None,
    ) -> int:
        p = self.p
        if p.family == "pre2":
            tap, target = pl.blocks[0], pl.blocks[1]
            line = f"meltano elt {tap} {target} --job_id=j{p.index}"
            return self.cmd(t, Process("elt", cmdline=line))
        if pl.job and self.rng.random() < 0.5:
            hashed = blocks_hash((pl.job,))
        else:
            hashed = blocks_hash(pl.blocks)
        proc = Process(
            "run",
            pipeline=pl,
            blocks_hash=hashed,
            outcome="fail" if fail else "ok",
            duration_ms=randrange(self.rng, 20_000, 900_000),
            cmdline="meltano run " + " ".join(pl.blocks),
            project_id=project_id,
            source=source,
        )
        return self.cmd(t, proc)

    def setup(self, t: int, *, adds: int = 2, fail_adds: bool = False) -> int:
        p = self.p
        init_opts = {**OPTIONS["init|cli"], "project_directory": sha(f"p{p.index}")}
        t = self.cmd(t, Process("init", opts=init_opts))
        for name in p.plugins[: max(adds, 1)]:
            proc = Process(
                "add",
                opts={**OPTIONS["add|cli"], "plugin": sha(repr((name,)))},
                cmdline=f"meltano add {PLUGIN_POOL[name][0][:-1]} {name}",
            )
            if fail_adds:
                proc.outcome = "abort"
            else:
                proc.inflight_plugins = [(name, None)]
            t = self.cmd(t, proc)
        return t

    def install(self, t: int, project_id: str | None = None, source: str | None = None) -> int:
        plugins = [(n, None) for n in self.p.plugins]
        proc = Process("install", inflight_plugins=plugins, project_id=project_id, source=source)
        return self.cmd(t, proc)

    def misc(self, t: int) -> int:
        """A random configuration/inspection command, sometimes a usage error."""
        rng, p = self.rng, self.p
        r = rng.random()
        if r < 0.06:
            line = "meltano config meltano list"
            return self.cmd(t, Process("config", "list", outcome="usage", cmdline=line))
        if r < 0.3:
            name = rng.choice(p.plugins)
            line = f"meltano config set {name} start_date ..."
            return self.cmd(
                t, Process("config", "set", inflight_plugins=[(name, None)], cmdline=line)
            )
        if r < 0.45:
            name = rng.choice(p.plugins)
            cmds = PLUGIN_POOL[name][4]
            c = rng.choice(cmds) if cmds else None
            line = f"meltano invoke {name}{':' + c if c else ''}"
            return self.cmd(t, Process("invoke", inflight_plugins=[(name, c)], cmdline=line))
        if r < 0.55:
            pl = rng.choice(p.pipelines)
            verb = "el" if p.family in ("v4", "v3") and rng.random() < 0.5 else "elt"
            plugs = [(pl.blocks[0], None), (pl.blocks[1], None)]
            line = f"meltano {verb} {pl.blocks[0]} {pl.blocks[1]}"
            return self.cmd(t, Process(verb, inflight_plugins=plugs, cmdline=line))
        for below, command, sub in (
            (0.62, "test", None),
            (0.7, "state", "list"),
            (0.76, "select", None),
            (0.82, "job", "list"),
            (0.88, "schedule", "list"),
            (0.93, "environment", "list"),
        ):
            if r < below:
                return self.cmd(t, Process(command, sub))
        if r < 0.97 and p.family == "v4":
            proc = Process(
                "run",
                blocks_hash=EMPTY_TUPLE_HASH,
                pipeline=Pipeline((), []),
                duration_ms=900,
                cmdline="meltano run",
            )
            return self.cmd(t, proc)
        return self.install(t)

    def schedule_run(self, t: int, pl: Pipeline) -> int:
        """`meltano schedule run`: the parent process, then its child `run` linked to it."""
        p = self.p
        if p.family not in ("v4", "v3", "v25"):
            return self.run_pipeline(t, pl)
        if not p.telemetry_on or t >= self.end:
            return t
        dur = randrange(self.rng, 20_000, 600_000)
        p.new_id(t)  # unused, but a draw of the seeded sequence: every later id depends on it
        parent = Process(
            "schedule", "run", duration_ms=dur + 1500, cmdline="meltano schedule run daily"
        )
        end, env_uuid = self.emitter.process(p, t, parent)
        child = Process(
            "run",
            pipeline=pl,
            blocks_hash=blocks_hash((pl.job or "job",)),
            duration_ms=dur,
            parent_env=env_uuid,
            cmdline="meltano run " + (pl.job or "job"),
        )
        self.emitter.process(p, t + 700, child)
        return end + randrange(self.rng, 60_000, 600_000)

    def daily(
        self,
        first: int,
        last: int,
        *,
        per_day: int = 1,
        every: int = 1,
        misc_rate: float = 0.05,
        fail_rate: float = 0.03,
        hours: tuple[float, ...] | None = None,
    ) -> None:
        """Pipelines every ``every`` days (at ``hours``, or ``per_day`` random times)."""
        rng, p = self.rng, self.p
        day0 = first - first % DAY_MS
        d = day0
        while d < min(last, self.end):
            if (d - day0) // DAY_MS % every == 0:
                hrs = hours or tuple(sorted(rng.uniform(0, 23) for _ in range(per_day)))
                for h in hrs:
                    for pl in p.pipelines if hours else [rng.choice(p.pipelines)]:
                        t = self.at(d, h)
                        if t < first:
                            continue
                        if pl.job and rng.random() < 0.1:
                            self.schedule_run(t, pl)
                            continue
                        fail = rng.random() < fail_rate
                        self.run_pipeline(t, pl, fail=fail)
                        if fail and not hours:
                            self.run_pipeline(t + randrange(rng, HOUR_MS, 3 * HOUR_MS), pl)
                if rng.random() < misc_rate:
                    self.misc(self.at(d, rng.uniform(8, 18)))
            d += DAY_MS

    def ci_jobs(self, first: int, last: int, every_days: int) -> None:
        """Every job is a fresh checkout: a new client id, install, run."""
        rng, p = self.rng, self.p
        d = first
        while d < min(last, self.end):
            t = d + randrange(rng, 0, HOUR_MS)
            p.client = p.new_id(t)
            if p.archetype == "ci_only":
                # no project_id committed: install reports a random id, run the explicit one
                rid = p.new_id(t)
                t = self.install(t, project_id=rid, source="random")
                self.run_pipeline(
                    t,
                    rng.choice(p.pipelines),
                    fail=rng.random() < 0.05,
                    project_id=rid,
                    source="explicit",
                )
            else:
                t = self.install(t)
                self.run_pipeline(t, rng.choice(p.pipelines), fail=rng.random() < 0.05)
            d += every_days * DAY_MS

    def run(self) -> None:
        """Live the project's archetype from its first command to the end of the window."""
        p, rng = self.p, self.rng
        a = p.archetype
        t = p.start_ms
        if a == "abandoned":
            t = self.setup(t, adds=rng.randint(1, 3), fail_adds=rng.random() < 0.3)
            if rng.random() < 0.4:
                t = self.misc(t)
            if rng.random() < 0.3:
                self.install(t)
        elif a in ("random_short", "random_persisted"):
            # no project_id in meltano.yml: the first command reports a random id, then explicit
            self.install(t, source="random")
            t += DAY_MS
            span = rng.randint(1, 4) if a == "random_short" else rng.randint(12, 60)
            self.daily(t, t + span * DAY_MS, misc_rate=0.1)
        elif a in ("ci_only", "ci_derived"):
            self.ci_jobs(t, self.end, rng.choice([1, 7]))
        else:
            t = self.setup(t, adds=len(p.plugins))
            t = self.install(t)
            for _ in range(rng.randint(0, 3)):
                t = self.misc(t)
            self._in_use(t)

    def _in_use(self, t: int) -> None:
        """After setup: the archetype's usage pattern."""
        p, rng = self.p, self.rng
        a = p.archetype
        if a == "poc_dormant_return":
            self.daily(t, t + rng.randint(2, 6) * DAY_MS, misc_rate=0.4)
            back = t + rng.randint(20, 60) * DAY_MS
            self.daily(back, back + rng.randint(20, 90) * DAY_MS, misc_rate=0.1)
        elif a == "steady_daily":
            self.daily(t + HOUR_MS, self.end, per_day=rng.randint(1, 2))
        elif a == "steady_weekly":
            self.daily(t + HOUR_MS, self.end, every=7, misc_rate=0.1)
        elif a == "whale":
            hours = tuple(h + 0.1 for h in range(24))
            self.daily(t + HOUR_MS, self.end, hours=hours, misc_rate=0.3, fail_rate=0.02)
        elif a == "churned":
            self.daily(t + HOUR_MS, t + rng.randint(10, 45) * DAY_MS)
        elif a == "opted_out":
            self._opt_out(t)
        elif a in ("legacy_2x", "legacy_pre2"):
            self.daily(t + HOUR_MS, self.end, every=rng.choice([1, 2, 7]))
        elif a == "explorer":
            self._explore(t)

    def _opt_out(self, t: int) -> None:
        """Daily use, then `send_anonymous_usage_stats false`; sometimes opting in again."""
        p, rng = self.p, self.rng
        out_at = t + rng.randint(3, 30) * DAY_MS
        self.daily(t + HOUR_MS, out_at, every=rng.choice([1, 3]))
        line = "meltano config set meltano send_anonymous_usage_stats false"
        t = self.cmd(out_at, Process("config", "set", cmdline=line))
        p.pending_change = ("send_anonymous_usage_stats", True, False)
        p.usage_source = "meltano_yml"
        # the next command sends only the state change, then nothing
        if t < self.end:
            self.emitter.state_change_only(p, t + randrange(rng, HOUR_MS, 3 * DAY_MS))
        p.telemetry_on = False
        if rng.random() < 0.3:
            back = t + rng.randint(20, 60) * DAY_MS
            p.telemetry_on = True
            p.pending_change = ("send_anonymous_usage_stats", False, True)
            self.daily(back, self.end)

    def _explore(self, t: int) -> None:
        """Trying commands for a while (some fail or abort), then maybe a scheduled job."""
        p, rng = self.p, self.rng
        for _ in range(rng.randint(5, 25)):
            t = self.misc(t)
            if rng.random() < 0.3:
                t = self.run_pipeline(t, rng.choice(p.pipelines), fail=rng.random() < 0.2)
            if rng.random() < 0.2:
                proc = Process(
                    "run",
                    outcome="abort",
                    blocks_hash=sha(repr(("tap-x", "target-missing"))),
                    cmdline="meltano run tap-x target-missing",
                )
                t = self.cmd(t, proc)
            if rng.random() < 0.3:
                t += rng.randint(1, 5) * DAY_MS
        if p.family in ("v4", "v3"):
            pl = p.pipelines[0]
            pl.job = pl.job or "main-job"
            t = self.cmd(t, Process("job", "add"))
            t = self.cmd(t, Process("schedule", "add"))
            self.daily(t + HOUR_MS, self.end, every=rng.choice([1, 2]))
