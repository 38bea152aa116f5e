"""The shapes of Meltano CLI processes: which events a command sends, in which order.

Every process ends with an exit_event; before it, a command sends ``started`` and then,
depending on the command and how it ends, ``inflight``, block events (``meltano run``),
``completed``, ``failed`` or ``aborted``. A usage error sends the exit_event only. Each event
carries the process's shared contexts (see emit.py) plus its own: an exception_context
always, a plugins_context when plugins are involved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telemetry_kpis.generate.catalogue import EXIT_KEYS, FAMILY
from telemetry_kpis.generate.iglu import dumps
from telemetry_kpis.generate.stamps import iso, randrange

if TYPE_CHECKING:
    from telemetry_kpis.generate.contexts import Contexts
    from telemetry_kpis.generate.project import Pipeline, PluginRef, Project

#: one event of a process: (ms after the process start, encoded unstruct_event column,
#: encoded contexts after the process's shared ones (None: the state change, which has its
#: own), event name, event schema version)
Event = tuple[int, str, str | None, str, str]


@dataclass(slots=True)
class Process:
    """One CLI process, as a project's lifecycle asks for it."""

    command: str
    sub: str | None = None
    opts: dict[str, Any] | None = None  # None: the command's usual options (templates.json)
    sub_opts: dict[str, Any] | None = None
    outcome: str = "ok"  # ok, fail, abort, or usage (a usage error: exit code 2)
    inflight_plugins: Sequence[PluginRef] | None = None
    pipeline: Pipeline | None = None  # the blocks of `meltano run`
    blocks_hash: str | None = None  # the `blocks` option of `meltano run`
    duration_ms: int | None = None  # None: a few seconds, drawn
    parent_env: str | None = None  # environment context uuid of the parent process
    project_id: str | None = None  # None: the project's current id
    source: str | None = None  # None: the project's id source
    cmdline: str = ""  # as typed (legacy struct events report it)

    @property
    def truth_key(self) -> str:
        return self.command if not self.sub else f"{self.command} {self.sub}"

    @property
    def exit_code(self) -> int:
        return 0 if self.outcome == "ok" else 2 if self.outcome == "usage" else 1


@dataclass(slots=True)
class Execution:
    """A process being emitted: when it starts, how long it runs, its events and contexts."""

    p: Project
    proc: Process
    t0: int
    duration: int
    head: str  # the contexts its events share, up to their own
    events: list[Event] = field(default_factory=list)
    state_head: str = ""  # the contexts of a telemetry state change, if it sends one
    # the one batch in which the tracker sends the events, at exit
    collector: int = 0  # when the collector received it (ms)
    nuid: str = ""  # network_userid


def state_change_unstruct(ctx: Contexts, change: tuple[str, bool, bool]) -> str:
    """The encoded telemetry_state_change_event payload of (setting, from, to)."""
    setting, frm, to = change
    data = dumps({"setting_name": setting, "changed_from": frm, "changed_to": to})
    return ctx.unstruct("telemetry_state_change_event", "1-0-0", data)


def add_events(ctx: Contexts, x: Execution) -> None:
    """Append the events of ``x.proc``, from ``started`` to the exit_event."""
    proc = x.proc
    plug_ctx = ""
    if proc.inflight_plugins:
        plug_ctx = "," + ctx.plugins(x.p, x.t0 + 150, proc.inflight_plugins)
    if proc.outcome == "usage":
        pass
    elif proc.command == "run" and proc.pipeline is not None:
        _run_events(ctx, x, proc.pipeline)
    elif proc.outcome == "abort":
        plug_ctx = _aborted_events(ctx, x)
    else:
        _command_events(ctx, x, plug_ctx)
    _exit_event(ctx, x, plug_ctx if proc.command == "add" or proc.inflight_plugins else "")


def _started(ctx: Contexts, x: Execution, ver: str) -> Event:
    return (
        30,
        ctx.unstruct("cli_event", ver, '{"event":"started"}'),
        ctx.exception(x.p, x.t0 + 30, None),
        "cli_event",
        ver,
    )


def _run_events(ctx: Contexts, x: Execution, pipeline: Pipeline) -> None:
    """`meltano run`: started, initialized/completed per block (or failed), completed/failed."""
    p, t0, fail = x.p, x.t0, x.proc.outcome == "fail"
    ver = FAMILY[p.family][3]
    append = x.events.append
    append(_started(ctx, x, ver))
    blocks = ctx.blocks(p.family, pipeline)
    nb = len(blocks)
    step = max(1, (x.duration - 200) // (nb + 1))
    for i, block in enumerate(blocks):
        plug = block.plugins
        pc = f",{plug[0]}{p.new_id(t0 + 100 + i * step)}{plug[1]}"
        append(
            (
                100 + i * step,
                block.initialized,
                pc + ctx.exception(p, t0 + 100, None),
                "block_event",
                "1-0-0",
            )
        )
        last = fail and (i == nb - 1 or i == 0)
        append(
            (
                100 + (i + 1) * step - 50,
                block.failed if last else block.completed,
                pc + ctx.exception(p, t0, "block_failed" if last else None),
                "block_event",
                "1-0-0",
            )
        )
        if last:
            break
    _ended(ctx, x, ver, "", fail)


def _ended(ctx: Contexts, x: Execution, ver: str, plug_ctx: str, fail: bool) -> None:
    what, key = ("failed", "cli_failed") if fail else ("completed", None)
    x.events.append(
        (
            x.duration - 5,
            ctx.unstruct("cli_event", ver, '{"event":"%s"}' % what),  # noqa: UP031
            plug_ctx + ctx.exception(x.p, x.t0, key),
            "cli_event",
            ver,
        )
    )


def _aborted_events(ctx: Contexts, x: Execution) -> str:
    """started, aborted; returns the plugins context of the exit event."""
    p, add = x.p, x.proc.command == "add"
    ver = FAMILY[p.family][3]
    x.events.append(_started(ctx, x, ver))
    plug_ctx = "," + ctx.plugins(p, x.t0 + x.duration, []) if add else ""
    x.events.append(
        (
            x.duration - 5,
            ctx.unstruct("cli_event", ver, '{"event":"aborted"}'),
            plug_ctx + ctx.exception(p, x.t0, "abort_add" if add else "abort_run"),
            "cli_event",
            ver,
        )
    )
    return plug_ctx


def _command_events(ctx: Contexts, x: Execution, plug_ctx: str) -> None:
    """Any other command: started, inflight (plugins, cli_event 1-0-1), completed/failed."""
    p, proc = x.p, x.proc
    ver = FAMILY[p.family][3]
    x.events.append(_started(ctx, x, ver))
    if proc.inflight_plugins and ver == "1-0-1":
        x.events.append(
            (
                120,
                ctx.unstruct("cli_event", ver, '{"event":"inflight"}'),
                plug_ctx + ctx.exception(p, x.t0 + 120, None),
                "cli_event",
                ver,
            )
        )
    command, sub = proc.command, proc.sub
    short = command in ("init", "test") or (command == "schedule" and sub in ("add", "list"))
    if command == "schedule" and sub == "run":
        pass  # the parent only sends started -> exit (its child `run` sends the rest)
    elif not short:
        _ended(ctx, x, ver, plug_ctx, proc.outcome == "fail")


def _exit_event(ctx: Contexts, x: Execution, plug_ctx: str) -> None:
    p, t0, duration = x.p, x.t0, x.duration
    ver = FAMILY[p.family][4]
    code = x.proc.exit_code
    rng = p.rng
    exit_ts = iso(t0 + duration - 2, randrange(rng, 0, 1000))
    exit_us = duration * 1000 - 2000 + randrange(rng, 0, 1000)
    x.events.append(
        (
            duration - 2,
            ctx.exit_unstruct(ver, code, exit_ts, exit_us),
            plug_ctx + ctx.exception(p, t0, EXIT_KEYS[code]),
            "exit_event",
            ver,
        )
    )
