"""Synthetic Meltano CLI telemetry: project lifecycles -> CLI processes -> Snowplow rows.

Speed comes from building JSON as text: every context is serialised once per project or per
process and already escaped for the output format, so one event is a handful of string
concatenations. Each project has its own ``random.Random`` seeded from (seed, project index),
so the output of a project never depends on the others or on the number of worker processes.

Noise never changes the ground truth: malformed rows, unknown schemas and rows without a
project context are *extra* rows (copies with a fresh ``event_id``), duplicates are extra
copies, late arrival only moves ``uploaded_at``, clock skew only moves ``dvce_created_tstamp``.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from functools import partial

from telemetry_kpis.generate.catalogue import (
    ARCHETYPES,
    DBTS,
    EMPTY_TUPLE_HASH,
    ENV_COMMANDS,
    EXCEPTIONS,
    EXIT_KEYS,
    EXPECTED_SOURCE,
    FAMILY,
    IP_BLOCKS,
    NOISE_KINDS,
    OPTIONS,
    PLUGIN_POOL,
    PYTHONS,
    SYSTEMS,
    TAPS,
    TARGETS,
    TIMEZONES,
    TRACKER,
    VERSIONS,
)
from telemetry_kpis.generate.iglu import CONTEXTS_HEAD, UNSTRUCT_HEAD, dumps, sd, sha
from telemetry_kpis.generate.rows import Format
from telemetry_kpis.generate.stamps import (
    DAY_MS,
    DAYS,
    HMS,
    HOUR_MS,
    MILLI,
    MIN_MS,
    UUID4_KEEP,
    UUID4_SET,
    derived_uuid,
    iso,
    ts,
    uuid4,
    uuid7,
)

#: rows buffered before they go to the text writer, and bytes per write: small enough that
#: the rows are still in the CPU cache when they are copied out (measured: 1024 rows / 1 MB
#: cost about 10 % more CPU per row than 64 rows / 256 KB)
FLUSH_LINES = 64
CHUNK_BYTES = 1 << 18


# --------------------------------------------------------------------------------------------
# Projects
# --------------------------------------------------------------------------------------------
@dataclass
class Pipeline:
    blocks: tuple[str, ...]  # as typed: plugin names, `dbt-x:run`, or a job name
    plugins: list[list[tuple[str, str | None]]]  # per block: [(plugin name, command)]
    job: str | None = None


@dataclass
class Project:
    index: int
    rng: random.Random
    archetype: str
    family: str
    version: str
    start_ms: int
    fmt: Format
    ips: list[str]
    tz: str
    skew_ms: int
    project_id: str = ""
    source: str = "explicit"
    client: str = ""
    env_name: str | None = None
    env_via_option: bool = False
    ci: bool = False
    ci_repo: str = ""
    plugins: list[str] = field(default_factory=list)
    pipelines: list[Pipeline] = field(default_factory=list)
    system: tuple = ()
    python: str = "3.11.9"
    telemetry_on: bool = True
    pending_change: tuple | None = None  # (setting, from, to) to send with the next command
    usage_source: str = "default"
    shell_ms: int = 0
    truth_commands: dict[str, dict[str, int]] = field(default_factory=dict)
    project_ids: list[str] = field(default_factory=list)
    executions: int = 0
    nrng: random.Random | None = None
    env_tpl: str | None = None
    cli_cache: dict = field(default_factory=dict)
    env_hash: str | None = None  # sha(env_name)
    env_pieces: tuple | None = None  # encoded environment_context around its variable parts
    proj_cache: dict = field(default_factory=dict)  # encoded project_context pieces
    id_fn: object = None  # ms -> new id (set by Generator.new_id)


def open_text(raw):
    """A UTF-8 text writer over the binary file ``raw`` that copies each row only once.

    TextIOWrapper keeps ASCII rows as they are until CHUNK_BYTES are pending, then copies them
    into one bytes object for a single write (no ``"".join`` + ``.encode`` of the batch).
    """
    import io

    fh = io.TextIOWrapper(raw, encoding="utf-8", newline="", write_through=False)
    fh._CHUNK_SIZE = CHUNK_BYTES  # type: ignore[attr-defined]
    return fh


class Generator:
    """Generates the rows of a range of projects; deterministic per (seed, project index)."""

    def __init__(self, *, seed: int, days: int, start_ms: int, fmt: str, noise: dict[str, float]):
        self.seed = seed
        self.days = days
        self.window_start = start_ms
        self.window_end = start_ms + days * DAY_MS
        self.fmt = Format(fmt)
        self.noise = noise
        self.lines: list[str] = []
        self.noise_counts = dict.fromkeys(NOISE_KINDS, 0)
        self.noise_rows: list[dict] = []
        self.events = 0
        self.executions = 0
        self.line_base = 0
        self._plugin_json: dict[tuple, str] = {}
        self._static: dict[tuple, str] = {}
        self._exc_tpl: dict = {}
        self._unstruct: dict[tuple, str] = {}
        self._plugins_tpl: dict[tuple, list[str]] = {}
        self._ctx_head = self.fmt.enc(CONTEXTS_HEAD)
        #: above this noise draw no extra row is possible (tiny margin: exact logic decides)
        extra = sum(noise.get(k, 0) for k in NOISE_KINDS if k not in ("late", "skew"))
        self._noise_max = extra * (1 + 1e-9) + 1e-12
        #: where ``flush`` writes when the buffer is full mid-project (set by the caller)
        self.fh = None
        exc = EXCEPTIONS
        self.exc_json = {k: dumps(v) for k, v in exc.items()}

    def line_no(self) -> int:
        """1-based number (within this generator's output) of the last line appended."""
        return self.line_base + len(self.lines)

    def flush(self, fh) -> None:
        """Write the buffered rows to the text file ``fh`` (see ``open_text``)."""
        fh.writelines(self.lines)
        self.line_base += len(self.lines)
        self.lines.clear()

    # ---- project setup ---------------------------------------------------------------------
    def make_project(self, index: int) -> Project:
        rng = random.Random(f"{self.seed}:{index}")
        names = list(ARCHETYPES)
        archetype = rng.choices(names, weights=[ARCHETYPES[n] for n in names])[0]
        if archetype == "legacy_2x":
            family = rng.choice(["v20", "v22"])
        elif archetype == "legacy_pre2":
            family = "pre2"
        else:
            family = rng.choices(["v4", "v3", "v25"], weights=[6, 3, 1])[0]
        span = max(1, int(self.days * (0.9 if archetype != "whale" else 0.5)))
        start = self.window_start + rng.randrange(span) * DAY_MS + rng.randrange(7, 20) * HOUR_MS
        start += rng.randrange(HOUR_MS)
        block = rng.choice(IP_BLOCKS)
        ips = [block + str(rng.randrange(1, 255))]
        p = Project(
            index=index,
            rng=rng,
            archetype=archetype,
            family=family,
            version=rng.choice(VERSIONS[family]),
            start_ms=start,
            fmt=self.fmt,
            ips=ips,
            tz=rng.choice(TIMEZONES),
            skew_ms=0,
        )
        p.nrng = random.Random(f"{self.seed}:{index}:noise")
        if p.nrng.random() < self.noise.get("skew", 0):
            p.skew_ms = p.nrng.choice([-1, 1]) * p.nrng.randrange(60_000, 900_000)
        if p.skew_ms:
            self.noise_counts["skew"] += 1
        p.system = rng.choice(SYSTEMS)
        p.python = rng.choice(PYTHONS)
        p.shell_ms = start - rng.randrange(HOUR_MS, 30 * DAY_MS)
        p.client = self.new_id(p, start)
        p.project_id = self.new_id(p, start)
        if archetype in ("random_persisted",) or rng.random() < 0.15:
            p.ips.append(rng.choice(IP_BLOCKS) + str(rng.randrange(1, 255)))
        # plugins and pipelines
        npipes = rng.randint(3, 6) if archetype == "whale" else rng.randint(1, 2)
        used: list[str] = []
        for _ in range(npipes):
            tap, target = rng.choice(TAPS), rng.choice(TARGETS)
            blocks: list[str] = [tap, target]
            plugins = [[(tap, None), (target, None)]]
            if target in DBTS and rng.random() < 0.45:
                dbt = DBTS[target]
                cmd = rng.choice(PLUGIN_POOL[dbt][4][:2])
                blocks.append(f"{dbt}:{cmd}")
                plugins.append([(dbt, cmd)])
                used.append(dbt)
            used += [tap, target]
            job = None
            if rng.random() < 0.25:
                job = f"{tap.removeprefix('tap-')}-job"
            p.pipelines.append(Pipeline(tuple(blocks), plugins, job))
        p.plugins = list(dict.fromkeys(used))
        envs = [None, "dev", "prod", "staging"]
        p.env_name = rng.choices(envs, weights=[4, 3, 4, 1])[0]
        p.env_via_option = rng.random() < 0.3
        if archetype in ("ci_only", "ci_derived"):
            p.ci = True
            p.ci_repo = f"org{index}/data-platform"
            p.usage_source = "env"
            p.env_name = "prod"
        if archetype == "ci_derived":
            p.source = "derived"
            p.project_id = derived_uuid(f"acme-{index}-{rng.randrange(10**6)}")
        p.env_hash = sha(p.env_name) if p.env_name else None
        return p

    def new_id(self, p: Project, ms: int) -> str:
        """A fresh context/project id: UUIDv7 for Meltano 3.x/4.x, UUIDv4 before."""
        new = p.id_fn
        if new is None:
            rng = p.rng
            if p.family in ("v4", "v3"):
                new = p.id_fn = partial(uuid7, rng)
            else:
                new = p.id_fn = lambda ms: uuid4(rng)
        return new(ms)

    # ---- contexts -------------------------------------------------------------------------
    def env_context(self, p: Project, ctx_uuid: str, parent: str | None, t0: int) -> str:
        tpl = p.env_tpl
        if tpl is None:
            tpl = p.env_tpl = self._env_context(p, "@CU@", "@PA@", -1)
        return (
            tpl.replace("@CU@", ctx_uuid)
            .replace('"@PA@"', "null" if parent is None else f'"{parent}"')
            .replace("@T0@", iso(t0))
        )

    def _env_context(self, p: Project, ctx_uuid: str, parent: str | None, t0: int) -> str:
        ver = FAMILY[p.family][0]
        sysn = p.system
        d: dict = {"context_uuid": ctx_uuid}
        if ver != "1-0-0":
            d["parent_context_uuid"] = parent
        d.update(meltano_version=p.version, is_dev_build=False, is_ci_environment=p.ci)
        if ver in ("1-2-0", "1-3-0"):
            d["notable_flag_env_vars"] = {"CI": True, "GITHUB_ACTIONS": True} if p.ci else {}
        if ver == "1-3-0":
            d["notable_hashed_env_vars"] = {"GITHUB_REPOSITORY": sha(p.ci_repo)} if p.ci else {}
        d.update(
            python_version=p.python,
            python_implementation="CPython",
            system_name=sysn[0],
            system_release=sysn[1],
            system_version=sysn[2],
            machine=sysn[3],
            windows_edition=sysn[4],
            freedesktop_id=sysn[5],
            freedesktop_id_like=sysn[6],
            freedesktop_version_id=sysn[7],
            num_cpu_cores=4,
            num_cpu_cores_available=4,
            process_hierarchy=[
                {"process_name_hash": sha("meltano"), "process_creation_timestamp": "@T0@"},
                {
                    "process_name_hash": sha("bash" if not p.ci else "runner"),
                    "process_creation_timestamp": iso(p.shell_ms),
                },
            ],
        )
        return sd("environment_context", ver, dumps(d))

    def project_context(
        self,
        p: Project,
        ctx_uuid: str,
        env_hash: str | None,
        project_id: str,
        source: str,
        send: bool = True,
    ) -> str:
        ver = FAMILY[p.family][1]
        d = {
            "context_uuid": ctx_uuid,
            "project_uuid": project_id,
            "project_uuid_source": source,
            "client_uuid": p.client,
        }
        if ver == "1-1-0":
            d["send_anonymous_usage_stats"] = send
            d["send_anonymous_usage_stats_source"] = p.usage_source
        d["environment_name_hash"] = env_hash
        return sd("project_context", ver, dumps(d))

    def cli_contexts(
        self,
        p: Project,
        command: str,
        sub: str | None,
        opts: dict,
        sub_opts: dict | None = None,
        only_group: bool = False,
    ) -> list[str]:
        ver = FAMILY[p.family][2]
        if ver == "1-0-0":
            keys = sorted(
                k for k, v in {**opts, **(sub_opts or {})}.items() if v not in (None, False)
            )
            return [
                sd(
                    "cli_context",
                    "1-0-0",
                    dumps({"command": command, "sub_command": sub, "option_keys": keys}),
                )
            ]
        cli_opts = dict(OPTIONS["cli|"])
        if p.env_via_option and p.env_name and command in ENV_COMMANDS:
            cli_opts["environment"] = sha(repr(p.env_name))
        out = []
        if command != "init":
            out.append(
                sd(
                    "cli_context",
                    ver,
                    dumps({"command": "cli", "parent_command_hint": None, "options": cli_opts}),
                )
            )
        out.append(
            sd(
                "cli_context",
                ver,
                dumps({"command": command, "parent_command_hint": "cli", "options": opts}),
            )
        )
        if sub and not only_group:
            out.append(
                sd(
                    "cli_context",
                    ver,
                    dumps(
                        {"command": sub, "parent_command_hint": command, "options": sub_opts or {}}
                    ),
                )
            )
        return out

    def plugin_entry(self, name: str, command, *, with_lock: bool = False) -> str:
        key = (name, json.dumps(command))
        s = self._plugin_json.get(key)
        if s is None:
            cat, ns, variant, pip, _ = PLUGIN_POOL[name]
            s = dumps(
                {
                    "category": cat,
                    "name_hash": sha(name),
                    "namespace_hash": sha(ns),
                    "executable_hash": sha(name),
                    "variant_name_hash": sha(variant),
                    "pip_url_hash": sha(pip),
                    "parent_name_hash": sha(name),
                    "command": command,
                }
            )
            self._plugin_json[key] = s
        return s

    def plugins_context(self, p: Project, ms: int, plugins: list[tuple[str, object]]) -> str:
        """The plugins_context, already encoded for the output format."""
        key = tuple((n, "[]" if c.__class__ is list else c) for n, c in plugins)
        tpl = self._plugins_tpl.get(key)
        if tpl is None:
            body = ",".join(self.plugin_entry(n, c) for n, c in plugins)
            text = sd("plugins_context", "1-0-0", '{"context_uuid":"@U@","plugins":[%s]}' % body)  # noqa: UP031
            tpl = self._plugins_tpl[key] = self.fmt.enc(text).split("@U@")
        return tpl[0] + (p.id_fn or partial(self.new_id, p))(ms) + tpl[1]

    def exception_context(self, p: Project, ms: int, key: str | None) -> str:
        """``,`` + the exception_context, already encoded for the output format."""
        tpl = self._exc_tpl.get(key)
        if tpl is None:
            text = "," + self._exception_context("@U@", key)
            tpl = self._exc_tpl[key] = self.fmt.enc(text).split("@U@")
        return tpl[0] + (p.id_fn or partial(self.new_id, p))(ms) + tpl[1]

    def _exception_context(self, ctx_uuid: str, key: str | None) -> str:
        exc = "null" if key is None else self.exc_json[key]
        return sd(
            "exception_context",
            "1-0-0",
            '{"context_uuid":"%s","exception":%s}' % (ctx_uuid, exc),  # noqa: UP031
        )

    def env_context_enc(self, p: Project, ctx_uuid: str, parent: str | None, t0: int) -> str:
        """``env_context`` already encoded, from pieces split once per project."""
        pieces = p.env_pieces
        if pieces is None:
            text = self.fmt.enc(self._env_context(p, "@CU@", "@PA@", -1))
            a, rest = text.split("@CU@")
            marker = self.fmt.enc('"@PA@"')
            b, rest = rest.split(marker) if marker in rest else ("", rest)
            c, d = rest.split("@T0@")
            pieces = p.env_pieces = (a, b, c, d, marker in text)
        a, b, c, d, has_parent = pieces
        if not has_parent:
            par = ""
        elif parent is None:
            par = "null"
        else:
            q = self.fmt.quote
            par = q + parent + q
        return f"{a}{ctx_uuid}{b}{par}{c}{iso(t0)}{d}"

    def project_context_enc(
        self,
        p: Project,
        ctx_uuid: str,
        env_hash: str | None,
        project_id: str,
        source: str,
        send: bool = True,
    ) -> str:
        """``project_context`` already encoded, from pieces cached per project."""
        key = (project_id, source, env_hash, p.client, send, p.usage_source)
        pieces = p.proj_cache.get(key)
        if pieces is None:
            if len(p.proj_cache) > 64:
                p.proj_cache.clear()
            text = self.project_context(p, "@CU@", env_hash, project_id, source, send)
            pieces = p.proj_cache[key] = self.fmt.enc(text).split("@CU@")
        return pieces[0] + ctx_uuid + pieces[1]

    def unstruct(self, name: str, version: str, data_json: str) -> str:
        """The unstruct_event column (encoded) of a com.meltano event with constant data."""
        key = (name, version, data_json)
        text = self._unstruct.get(key)
        if text is None:
            text = self._unstruct[key] = self.fmt.enc(
                UNSTRUCT_HEAD + sd(name, version, data_json) + "}"
            )
        return text

    # ---- emitting -------------------------------------------------------------------------
    def emit_process(
        self,
        p: Project,
        t0: int,
        command: str,
        sub: str | None = None,
        *,
        opts: dict | None = None,
        sub_opts: dict | None = None,
        outcome: str = "ok",
        inflight_plugins: list | None = None,
        pipeline: Pipeline | None = None,
        blocks_hash: str | None = None,
        duration_ms: int | None = None,
        parent_env: str | None = None,
        project_id: str | None = None,
        source: str | None = None,
        cmdline: str = "",
    ) -> tuple[int, str]:
        """Emit the events of one CLI process; returns (end ms, environment context uuid).

        Every text is built already encoded for the output format; the contexts of an
        event are ``head`` (environment, project and CLI contexts: once per process) plus
        its own extra contexts, and the row is one call of the compiled renderer.
        """
        rng = p.rng
        fam = p.family
        truth_key = command if not sub else f"{command} {sub}"
        tc = p.truth_commands.get(truth_key)
        if tc is None:
            tc = p.truth_commands[truth_key] = {"executions": 0, "failed": 0, "events": 0}
        tc["executions"] += 1
        if outcome != "ok":
            tc["failed"] += 1
        self.executions += 1
        p.executions += 1
        if fam == "pre2":
            return self.emit_legacy(p, t0, command, sub, cmdline, tc)
        if duration_ms is None:
            duration_ms = rng.randrange(800, 9000)
        project_id = project_id or p.project_id
        source = source or p.source
        if project_id not in p.project_ids:
            p.project_ids.append(project_id)
        new_id = self.new_id
        exception_context = self.exception_context
        unstruct = self.unstruct
        env_uuid = new_id(p, t0)
        proj_uuid = new_id(p, t0 + 90)
        env_hash = p.env_hash if command in ENV_COMMANDS else None
        env_ctx = self.env_context_enc(p, env_uuid, parent_env, t0)
        proj_ctx = self.project_context_enc(p, proj_uuid, env_hash, project_id, source)
        usage = outcome == "usage"
        cache_key = (command, sub, usage, blocks_hash) if opts is None else None
        cli_text = p.cli_cache.get(cache_key) if cache_key else None
        if cli_text is None:
            base_opts = opts if opts is not None else dict(OPTIONS.get(f"{command}|cli", {}))
            if sub and sub_opts is None:
                sub_opts = dict(OPTIONS.get(f"{sub}|{command}", {}))
            if blocks_hash is not None:
                base_opts = {**base_opts, "blocks": blocks_hash}
            cli = self.cli_contexts(p, command, sub, base_opts, sub_opts, only_group=usage)
            cli_text = self.fmt.enc("," + ",".join(cli))
            if cache_key:
                p.cli_cache[cache_key] = cli_text
        head = f"{self._ctx_head}{env_ctx},{proj_ctx}{cli_text}"
        ver_ev = FAMILY[fam][3]
        ver_exit = FAMILY[fam][4]
        end = t0 + duration_ms
        # (offset ms, encoded unstruct text, encoded extra contexts, event name, version)
        seq: list[tuple[int, str, str, str, str]] = []
        append = seq.append
        state_head = ""
        if p.pending_change is not None and not usage:
            setting, frm, to = p.pending_change
            p.pending_change = None
            data = dumps({"setting_name": setting, "changed_from": frm, "changed_to": to})
            append(
                (
                    -200,
                    unstruct("telemetry_state_change_event", "1-0-0", data),
                    None,
                    "telemetry_state_change_event",
                    "1-0-0",
                )
            )
            proj_plain = self.project_context_enc(p, proj_uuid, None, project_id, source)
            state_head = (
                f"{self._ctx_head}{env_ctx},{proj_plain}{exception_context(p, t0 - 200, None)}"
            )
        plug_ctx = ""
        if inflight_plugins:
            plug_ctx = "," + self.plugins_context(p, t0 + 150, inflight_plugins)
        if usage:
            pass
        elif command == "run" and pipeline is not None:
            append(
                (
                    30,
                    unstruct("cli_event", ver_ev, '{"event":"started"}'),
                    exception_context(p, t0 + 30, None),
                    "cli_event",
                    ver_ev,
                )
            )
            nb = len(pipeline.plugins)
            step = max(1, (duration_ms - 200) // (nb + 1))
            for i, block in enumerate(pipeline.plugins):
                is_el = block[0][0] in PLUGIN_POOL and PLUGIN_POOL[block[0][0]][0] == "extractors"
                btype = "ExtractLoadBlocks" if is_el else "InvokerCommand"
                plist = [(n, []) for n, _ in block] if fam == "v4" and is_el else list(block)
                pc = "," + self.plugins_context(p, t0 + 100 + i * step, plist)
                append(
                    (
                        100 + i * step,
                        unstruct(
                            "block_event", "1-0-0", f'{{"type":"{btype}","event":"initialized"}}'
                        ),
                        pc + exception_context(p, t0 + 100, None),
                        "block_event",
                        "1-0-0",
                    )
                )
                if outcome == "fail" and i == nb - 1 or outcome == "fail" and i == 0:
                    append(
                        (
                            100 + (i + 1) * step - 50,
                            unstruct(
                                "block_event", "1-0-0", f'{{"type":"{btype}","event":"failed"}}'
                            ),
                            pc + exception_context(p, t0, "block_failed"),
                            "block_event",
                            "1-0-0",
                        )
                    )
                    break
                append(
                    (
                        100 + (i + 1) * step - 50,
                        unstruct(
                            "block_event", "1-0-0", f'{{"type":"{btype}","event":"completed"}}'
                        ),
                        pc + exception_context(p, t0, None),
                        "block_event",
                        "1-0-0",
                    )
                )
            what, key = ("failed", "cli_failed") if outcome == "fail" else ("completed", None)
            append(
                (
                    duration_ms - 5,
                    unstruct("cli_event", ver_ev, '{"event":"%s"}' % what),  # noqa: UP031
                    exception_context(p, t0, key),
                    "cli_event",
                    ver_ev,
                )
            )
        elif outcome == "abort":
            append(
                (
                    30,
                    unstruct("cli_event", ver_ev, '{"event":"started"}'),
                    exception_context(p, t0 + 30, None),
                    "cli_event",
                    ver_ev,
                )
            )
            key = "abort_add" if command == "add" else "abort_run"
            extra = "," + self.plugins_context(p, end, []) if command == "add" else ""
            append(
                (
                    duration_ms - 5,
                    unstruct("cli_event", ver_ev, '{"event":"aborted"}'),
                    extra + exception_context(p, t0, key),
                    "cli_event",
                    ver_ev,
                )
            )
            plug_ctx = extra
        else:
            append(
                (
                    30,
                    unstruct("cli_event", ver_ev, '{"event":"started"}'),
                    exception_context(p, t0 + 30, None),
                    "cli_event",
                    ver_ev,
                )
            )
            short = command in ("init", "test") or (
                command == "schedule" and sub in ("add", "list")
            )
            if inflight_plugins and ver_ev == "1-0-1":
                append(
                    (
                        120,
                        unstruct("cli_event", ver_ev, '{"event":"inflight"}'),
                        plug_ctx + exception_context(p, t0 + 120, None),
                        "cli_event",
                        ver_ev,
                    )
                )
            if command == "schedule" and sub == "run":
                pass  # the parent only sends started -> exit (its child `run` sends the rest)
            elif not short:
                what, key = ("failed", "cli_failed") if outcome == "fail" else ("completed", None)
                append(
                    (
                        duration_ms - 5,
                        unstruct("cli_event", ver_ev, '{"event":"%s"}' % what),  # noqa: UP031
                        plug_ctx + exception_context(p, t0, key),
                        "cli_event",
                        ver_ev,
                    )
                )
        code = 0 if outcome == "ok" else 2 if outcome == "usage" else 1
        exit_ts = iso(end - 2, rng.randrange(1000))
        exit_us = duration_ms * 1000 - 2000 + rng.randrange(1000)
        exit_data = (
            f'{{"exit_code":{code},"exit_timestamp":"{exit_ts}",'
            f'"process_duration_microseconds":{exit_us}}}'
        )
        exit_plug = plug_ctx if command == "add" or inflight_plugins else ""
        append(
            (
                duration_ms - 2,
                self.fmt.enc(UNSTRUCT_HEAD + sd("exit_event", ver_exit, exit_data) + "}"),
                exit_plug + exception_context(p, t0, EXIT_KEYS[code]),
                "exit_event",
                ver_exit,
            )
        )
        # one batch at exit
        collector = end + rng.randrange(40, 900)
        network_userid = uuid4(rng)
        tracker = TRACKER[fam]
        # the per-row part of emit_row, inlined: same random draws in the same order
        skew = p.skew_ms
        sent = ((collector - 30 + skew) // 1000) * 1000
        collector_ts = ts(collector)
        sent_ts = ts(sent)
        tz = p.tz
        ips = p.ips
        nips = len(ips)
        ip = ips[0]
        noise = self.noise
        nrng = p.nrng
        late = noise.get("late", 0) if noise else 0
        noise_max = self._noise_max
        lines = self.lines
        fast = self.fmt.fast
        getrandbits = rng.getrandbits
        days, hms, milli = DAYS, HMS, MILLI
        for off, uns, extra, name, ver in seq:
            h = getrandbits(128) & UUID4_KEEP | UUID4_SET
            h = "%032x" % h  # noqa: UP031
            event_id = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
            true_ms = t0 + off
            created = true_ms + skew
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
                upload += nrng.randrange(1, 10) * DAY_MS + nrng.randrange(DAY_MS)
                self.noise_counts["late"] += 1
            if nips > 1:
                ip = ips[(true_ms // (5 * DAY_MS)) % nips]
            if extra is None:  # the telemetry_state_change_event has its own contexts
                ctx_head, ctx_tail = state_head, ""
            else:
                ctx_head, ctx_tail = head, extra
            # ts() inlined for the four per-event timestamps
            day, rem = divmod(etl, DAY_MS)
            etl_ts = days[day] + hms[rem // 1000] + milli[rem % 1000]
            day, rem = divmod(created, DAY_MS)
            created_ts = days[day] + hms[rem // 1000] + milli[rem % 1000]
            day, rem = divmod(derived, DAY_MS)
            derived_ts = days[day] + hms[rem // 1000] + milli[rem % 1000]
            day, rem = divmod(upload, DAY_MS)
            upload_ts = days[day] + hms[rem // 1000] + milli[rem % 1000]
            lines.append(
                fast(
                    etl_ts,
                    collector_ts,
                    created_ts,
                    event_id,
                    tracker,
                    ip,
                    network_userid,
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
            )
            if noise:
                r = nrng.random()
                if r < noise_max:
                    vals = [
                        etl_ts,
                        collector_ts,
                        created_ts,
                        "unstruct",
                        event_id,
                        tracker,
                        ip,
                        network_userid,
                        ctx_head + ctx_tail + "]}",
                        None,
                        None,
                        None,
                        uns,
                        tz,
                        sent_ts,
                        derived_ts,
                        "com.meltano",
                        name,
                        "jsonschema",
                        ver,
                    ]
                    self._noise_copies(p, r, vals, etl, collector, upload)
        self.events += len(seq)
        tc["events"] += len(seq)
        if fam in ("v20", "v22") and not usage:
            se_cat = f"meltano {command}"
            self.emit_row(
                p,
                t0 + 20,
                collector,
                "struct",
                uuid4(rng),
                tracker,
                network_userid,
                head + "]}",
                se_cat,
                self.fmt.enc(cmdline or se_cat),
                project_id,
                None,
                "com.google.analytics",
                "event",
                "1-0-0",
            )
            tc["events"] += 1
        if len(lines) >= FLUSH_LINES and self.fh is not None:
            self.flush(self.fh)
        return end, env_uuid

    def emit_legacy(
        self, p: Project, t0: int, command: str, sub, cmdline: str, tc
    ) -> tuple[int, str]:
        rng = p.rng
        collector = t0 + rng.randrange(200, 3000)
        se_cat = f"meltano {command}"
        self.emit_row(
            p,
            t0,
            collector,
            "struct",
            uuid4(rng),
            TRACKER["pre2"],
            uuid4(rng),
            None,
            se_cat,
            self.fmt.enc(cmdline or se_cat),
            p.project_id,
            None,
            "com.google.analytics",
            "event",
            "1-0-0",
        )
        tc["events"] += 1
        if p.project_id not in p.project_ids:
            p.project_ids.append(p.project_id)
        return collector, ""

    def emit_row(
        self,
        p: Project,
        true_ms: int,
        collector: int,
        event: str,
        event_id: str,
        tracker: str,
        nuid: str,
        contexts,
        se_cat,
        se_act,
        se_label,
        unstruct,
        vendor: str,
        name: str,
        version: str,
    ) -> None:
        """One row of any kind (the general path; ``emit_process`` inlines the common one)."""
        rng = p.rng
        created = true_ms + p.skew_ms
        sent = ((collector - 30 + p.skew_ms) // 1000) * 1000
        derived = collector - (sent - created) if created < sent else collector
        etl = collector + rng.randrange(1500, 9000)
        upload = etl + rng.randrange(20_000, 300_000)
        noise = self.noise
        nrng = p.nrng
        if noise and nrng.random() < noise.get("late", 0):
            upload += nrng.randrange(1, 10) * DAY_MS + nrng.randrange(DAY_MS)
            self.noise_counts["late"] += 1
        ip = p.ips[0] if len(p.ips) == 1 else p.ips[(true_ms // (5 * DAY_MS)) % len(p.ips)]
        vals = [
            ts(etl),
            ts(collector),
            ts(created),
            event,
            event_id,
            tracker,
            ip,
            nuid,
            contexts,
            se_cat,
            se_act,
            se_label,
            unstruct,
            p.tz,
            ts(sent),
            ts(derived),
            vendor,
            name,
            "jsonschema",
            version,
        ]
        self.lines.append(self.fmt.render(vals, ts(upload)))
        self.events += 1
        if noise:
            r = nrng.random()
            if r < self._noise_max:
                self._noise_copies(p, r, vals, etl, collector, upload)

    def _noise_copies(
        self, p: Project, r: float, vals: list, etl: int, collector: int, upload: int
    ) -> None:
        """Extra rows for one event (duplicate, malformed, ...) given its noise draw ``r``."""
        noise = self.noise
        nrng = p.nrng
        render = self.fmt.render
        event, event_id, nuid, contexts, unstruct = vals[3], vals[4], vals[7], vals[8], vals[12]
        if r < noise.get("duplicate", 0):
            self.noise_counts["duplicate"] += 1
            dup = list(vals)
            if nrng.random() < 0.5:
                shift = nrng.randrange(1000, 120_000)
                dup[1] = ts(collector + shift)
                dup[0] = ts(etl + shift)
            self.lines.append(render(dup, ts(upload + nrng.randrange(60_000, 2 * DAY_MS))))
            self.noise_rows.append(
                {"kind": "duplicate", "event_id": event_id, "line": self.line_no()}
            )
            return
        r -= noise.get("duplicate", 0)
        if event != "unstruct" or contexts is None:
            return
        up = ts(upload)
        enc = self.fmt.enc
        for kind in ("malformed", "no_project", "unknown_version", "unknown_event"):
            rate = noise.get(kind, 0)
            if r >= rate:
                r -= rate
                continue
            bad = list(vals)
            bad[4] = uuid4(nrng)
            row: dict = {"kind": kind, "event_id": bad[4], "copy_of": event_id}
            if kind == "malformed":
                how = nrng.choice(["contexts", "unstruct", "derived_tstamp", "event_id"])
                row["how"] = how
                if how == "contexts":
                    bad[8] = contexts[: len(contexts) // 2].rstrip("\\")
                elif how == "unstruct":
                    bad[12] = unstruct[: len(unstruct) - 7].rstrip("\\")
                elif how == "derived_tstamp":
                    bad[15] = nrng.choice(["not-a-timestamp", "2026-13-45 25:61:00.000", "0"])
                else:
                    bad[4] = None
                    row["event_id"] = None
                    row["network_userid"] = nuid
                    row["derived_tstamp"] = vals[15]
            elif kind == "no_project":
                # drop the project context: rebuild the contexts without it
                text = contexts
                start = text.find(enc('{"schema":"iglu:com.meltano/project_context/'))
                endp = text.find(enc("}},"), start) + len(enc("}},"))
                bad[8] = text[:start] + text[endp:]
            elif kind == "unknown_version":
                bad[12] = enc(
                    UNSTRUCT_HEAD
                    + sd("cli_event", "1-0-2", '{"event":"started","trigger":"scheduler"}')
                    + "}"
                )
                bad[17], bad[19] = "cli_event", "1-0-2"
            else:
                bad[12] = enc(
                    UNSTRUCT_HEAD + sd("plugin_usage_event", "1-0-0", '{"plugin_count":3}') + "}"
                )
                bad[17], bad[19] = "plugin_usage_event", "1-0-0"
            self.noise_counts[kind] += 1
            self.lines.append(render(bad, up))
            row["line"] = self.line_no()
            self.noise_rows.append(row)
            self.events += 1
            return

    # ---- lifecycles -----------------------------------------------------------------------
    def simulate(self, index: int) -> dict:
        p = self.make_project(index)
        Life(self, p).run()
        return {
            "index": index,
            "archetype": p.archetype,
            "meltano_version": p.version,
            "project_ids": p.project_ids,
            "expected_id_source": EXPECTED_SOURCE.get(p.archetype, "explicit"),
            "ci": p.ci,
            "environment": p.env_name,
            "ips": p.ips,
            "clock_skew_ms": p.skew_ms,
            "executions": p.executions,
            "commands": p.truth_commands,
            "pipelines": [" ".join(pl.blocks) for pl in p.pipelines],
        }


class Life:
    """The day-by-day behaviour of one project, by archetype."""

    def __init__(self, gen: Generator, p: Project) -> None:
        self.g = gen
        self.p = p
        self.rng = p.rng
        self.end = gen.window_end

    def at(self, day_ms: int, hour: float) -> int:
        return day_ms + int(hour * HOUR_MS) + self.rng.randrange(MIN_MS)

    def cmd(self, t: int, command: str, sub: str | None = None, **kw) -> int:
        """Run one command at t (if telemetry is on and t is in the window); returns next t."""
        if t >= self.end:
            return t
        p = self.p
        line = kw.pop("cmdline", None) or " ".join(x for x in ("meltano", command, sub or "") if x)
        if not p.telemetry_on:
            return t + 5000
        end, _ = self.g.emit_process(p, t, command, sub, cmdline=line, **kw)
        return end + self.rng.randrange(20_000, 600_000)

    def plug(self, name: str, command=None) -> tuple[str, object]:
        return (name, command)

    def run_pipeline(self, t: int, pl: Pipeline, fail: bool = False, **kw) -> int:
        p = self.p
        if p.family == "pre2":
            tap, target = pl.blocks[0], pl.blocks[1]
            return self.cmd(t, "elt", cmdline=f"meltano elt {tap} {target} --job_id=j{p.index}")
        outcome = "fail" if fail else "ok"
        if pl.job and self.rng.random() < 0.5:
            blocks_hash = sha(repr((pl.job,)))
        else:
            blocks_hash = sha(repr(tuple(pl.blocks)))
        dur = self.rng.randrange(20_000, 900_000)
        return self.cmd(
            t,
            "run",
            pipeline=pl,
            blocks_hash=blocks_hash,
            outcome=outcome,
            duration_ms=dur,
            cmdline="meltano run " + " ".join(pl.blocks),
            **kw,
        )

    def setup(self, t: int, *, adds: int = 2, fail_adds: bool = False) -> int:
        p = self.p
        t = self.cmd(
            t, "init", opts={**OPTIONS["init|cli"], "project_directory": sha(f"p{p.index}")}
        )
        for name in p.plugins[: max(adds, 1)]:
            if fail_adds:
                t = self.cmd(
                    t,
                    "add",
                    outcome="abort",
                    opts={**OPTIONS["add|cli"], "plugin": sha(repr((name,)))},
                    cmdline=f"meltano add {PLUGIN_POOL[name][0][:-1]} {name}",
                )
            else:
                t = self.cmd(
                    t,
                    "add",
                    opts={**OPTIONS["add|cli"], "plugin": sha(repr((name,)))},
                    inflight_plugins=[(name, None)],
                    cmdline=f"meltano add {PLUGIN_POOL[name][0][:-1]} {name}",
                )
        return t

    def install(self, t: int, **kw) -> int:
        return self.cmd(t, "install", inflight_plugins=[(n, None) for n in self.p.plugins], **kw)

    def misc(self, t: int) -> int:
        """A random configuration/inspection command, sometimes a usage error."""
        rng, p = self.rng, self.p
        r = rng.random()
        if r < 0.06:
            return self.cmd(
                t, "config", "list", outcome="usage", cmdline="meltano config meltano list"
            )
        if r < 0.3:
            name = rng.choice(p.plugins)
            return self.cmd(
                t,
                "config",
                "set",
                inflight_plugins=[(name, None)],
                cmdline=f"meltano config set {name} start_date ...",
            )
        if r < 0.45:
            name = rng.choice(p.plugins)
            cmds = PLUGIN_POOL[name][4]
            c = rng.choice(cmds) if cmds else None
            return self.cmd(
                t,
                "invoke",
                inflight_plugins=[(name, c)],
                cmdline=f"meltano invoke {name}{':' + c if c else ''}",
            )
        if r < 0.55:
            pl = rng.choice(p.pipelines)
            verb = "el" if p.family in ("v4", "v3") and rng.random() < 0.5 else "elt"
            plugs = [(pl.blocks[0], None), (pl.blocks[1], None)]
            return self.cmd(
                t,
                verb,
                inflight_plugins=plugs,
                cmdline=f"meltano {verb} {pl.blocks[0]} {pl.blocks[1]}",
            )
        if r < 0.62:
            return self.cmd(t, "test")
        if r < 0.7:
            return self.cmd(t, "state", "list")
        if r < 0.76:
            return self.cmd(t, "select", inflight_plugins=None)
        if r < 0.82:
            return self.cmd(t, "job", "list")
        if r < 0.88:
            return self.cmd(t, "schedule", "list")
        if r < 0.93:
            return self.cmd(t, "environment", "list")
        if r < 0.97 and p.family == "v4":
            return self.cmd(
                t,
                "run",
                blocks_hash=EMPTY_TUPLE_HASH,
                pipeline=Pipeline((), []),
                duration_ms=900,
                cmdline="meltano run",
            )
        return self.install(t)

    def schedule_run(self, t: int, pl: Pipeline) -> int:
        p = self.p
        if p.family not in ("v4", "v3", "v25"):
            return self.run_pipeline(t, pl)
        if not p.telemetry_on or t >= self.end:
            return t
        dur = self.rng.randrange(20_000, 600_000)
        # the parent process (schedule run) starts first; its child is the `run`
        parent_env = self.g.new_id(p, t)
        # emit parent with a pre-chosen env uuid: emulate by emitting child first with link
        end, env_uuid = self.g.emit_process(
            p, t, "schedule", "run", duration_ms=dur + 1500, cmdline="meltano schedule run daily"
        )
        del parent_env
        blocks_hash = sha(repr((pl.job or "job",)))
        self.g.emit_process(
            p,
            t + 700,
            "run",
            pipeline=pl,
            blocks_hash=blocks_hash,
            duration_ms=dur,
            parent_env=env_uuid,
            cmdline="meltano run " + (pl.job or "job"),
        )
        return end + self.rng.randrange(60_000, 600_000)

    def daily(
        self,
        first: int,
        last: int,
        *,
        per_day: int = 1,
        every: int = 1,
        misc_rate=0.05,
        fail_rate: float = 0.03,
        hours: tuple[float, ...] | None = None,
    ) -> None:
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
                            self.run_pipeline(t + rng.randrange(HOUR_MS, 3 * HOUR_MS), pl)
                if rng.random() < misc_rate:
                    self.misc(self.at(d, rng.uniform(8, 18)))
            d += DAY_MS

    def ci_jobs(self, first: int, last: int, every_days: int) -> None:
        rng, p = self.rng, self.p
        d = first
        while d < min(last, self.end):
            t = d + rng.randrange(HOUR_MS)
            p.client = self.g.new_id(p, t)  # fresh checkout: new client id
            if p.archetype == "ci_only":
                rid = self.g.new_id(p, t)
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
        p, rng = self.p, self.rng
        a = p.archetype
        t = p.start_ms
        if a == "abandoned":
            t = self.setup(t, adds=rng.randint(1, 3), fail_adds=rng.random() < 0.3)
            if rng.random() < 0.4:
                t = self.misc(t)
            if rng.random() < 0.3:
                self.install(t)
            return
        if a in ("random_short", "random_persisted"):
            # no project_id in meltano.yml: the first command reports a random id, then explicit
            self.install(t, source="random")
            t += DAY_MS
            span = rng.randint(1, 4) if a == "random_short" else rng.randint(12, 60)
            self.daily(t, t + span * DAY_MS, misc_rate=0.1)
            return
        if a in ("ci_only", "ci_derived"):
            # every execution is a CI job on a fresh checkout
            self.ci_jobs(t, self.end, rng.choice([1, 7]))
            return
        t = self.setup(t, adds=len(p.plugins))
        t = self.install(t)
        for _ in range(rng.randint(0, 3)):
            t = self.misc(t)
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
            out_at = t + rng.randint(3, 30) * DAY_MS
            self.daily(t + HOUR_MS, out_at, every=rng.choice([1, 3]))
            t = self.cmd(
                out_at,
                "config",
                "set",
                cmdline="meltano config set meltano send_anonymous_usage_stats false",
            )
            p.pending_change = ("send_anonymous_usage_stats", True, False)
            p.usage_source = "meltano_yml"
            # the next command sends only the state change, then nothing
            if t < self.end:
                self.g.emit_state_change_only(p, t + rng.randrange(HOUR_MS, 3 * DAY_MS))
            p.telemetry_on = False
            if rng.random() < 0.3:
                back = t + rng.randint(20, 60) * DAY_MS
                p.telemetry_on = True
                p.pending_change = ("send_anonymous_usage_stats", False, True)
                self.daily(back, self.end)
        elif a in ("legacy_2x", "legacy_pre2"):
            self.daily(t + HOUR_MS, self.end, every=rng.choice([1, 2, 7]))
        elif a == "explorer":
            for _ in range(rng.randint(5, 25)):
                t = self.misc(t)
                if rng.random() < 0.3:
                    t = self.run_pipeline(t, rng.choice(p.pipelines), fail=rng.random() < 0.2)
                if rng.random() < 0.2:
                    t = self.cmd(
                        t,
                        "run",
                        outcome="abort",
                        blocks_hash=sha(repr(("tap-x", "target-missing"))),
                        cmdline="meltano run tap-x target-missing",
                    )
                if rng.random() < 0.3:
                    t += rng.randint(1, 5) * DAY_MS
            if p.family in ("v4", "v3"):
                pl = p.pipelines[0]
                pl.job = pl.job or "main-job"
                t = self.cmd(t, "job", "add")
                t = self.cmd(t, "schedule", "add")
                self.daily(t + HOUR_MS, self.end, every=rng.choice([1, 2]))


def _emit_state_change_only(self: Generator, p: Project, t: int) -> None:
    """The first command after opting out: one telemetry_state_change_event, nothing else."""
    if t >= self.window_end or p.family == "pre2":
        p.pending_change = None
        return
    rng = p.rng
    enc = self.fmt.enc
    setting, frm, to = p.pending_change or ("send_anonymous_usage_stats", True, False)
    p.pending_change = None
    env_ctx = self.env_context(p, self.new_id(p, t), None, t)
    proj_ctx = self.project_context(
        p, self.new_id(p, t + 90), None, p.project_id, p.source, send=False
    )
    ctx = enc(CONTEXTS_HEAD + env_ctx + "," + proj_ctx + "]}")
    data = dumps({"setting_name": setting, "changed_from": frm, "changed_to": to})
    un = enc(UNSTRUCT_HEAD + sd("telemetry_state_change_event", "1-0-0", data) + "}")
    collector = t + rng.randrange(40, 900)
    tc = p.truth_commands.setdefault(
        "telemetry_state_change", {"executions": 0, "failed": 0, "events": 0}
    )
    tc["events"] += 1
    self.emit_row(
        p,
        t,
        collector,
        "unstruct",
        uuid4(rng),
        TRACKER[p.family],
        uuid4(rng),
        ctx,
        None,
        None,
        None,
        un,
        "com.meltano",
        "telemetry_state_change_event",
        "1-0-0",
    )


Generator.emit_state_change_only = _emit_state_change_only  # type: ignore[attr-defined]
