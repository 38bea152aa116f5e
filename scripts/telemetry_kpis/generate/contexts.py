"""The Iglu contexts and event payloads of Meltano CLI events, as encoded text.

A context is serialised once (per project or per plugin list) with a marker where its ids
go, encoded for the output format and split at the markers; each event then costs a few
concatenations. Per-project pieces live on the Project, the others here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from telemetry_kpis.generate.catalogue import ENV_COMMANDS, EXCEPTIONS, FAMILY, OPTIONS, PLUGIN_POOL
from telemetry_kpis.generate.iglu import CONTEXTS_HEAD, UNSTRUCT_HEAD, dumps, sd, sha
from telemetry_kpis.generate.stamps import iso

if TYPE_CHECKING:
    from telemetry_kpis.generate.project import Pipeline, PluginRef, Project
    from telemetry_kpis.generate.rows import Format
    from telemetry_kpis.generate.shapes import Process


class Block(NamedTuple):
    """What a block of `meltano run` sends: its plugins_context around the context id, and
    the encoded block_event payloads."""

    plugins: list[str]
    initialized: str
    completed: str
    failed: str


def environment_context(p: Project, ctx_uuid: str, parent: str | None, t0: str) -> str:
    """The environment_context (plain JSON) with ``t0`` as the process creation time."""
    ver = FAMILY[p.family][0]
    sysn = p.system
    d: dict[str, Any] = {"context_uuid": ctx_uuid}
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
            {"process_name_hash": sha("meltano"), "process_creation_timestamp": t0},
            {
                "process_name_hash": sha("bash" if not p.ci else "runner"),
                "process_creation_timestamp": iso(p.shell_ms),
            },
        ],
    )
    return sd("environment_context", ver, dumps(d))


def project_context(
    p: Project, ctx_uuid: str, env_hash: str | None, project_id: str, source: str, send: bool
) -> str:
    """The project_context (plain JSON)."""
    ver = FAMILY[p.family][1]
    d: dict[str, Any] = {
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
    p: Project,
    proc: Process,
    opts: dict[str, Any],
    sub_opts: dict[str, Any] | None,
    only_group: bool,
) -> list[str]:
    """The cli_context(s) of a command (plain JSON): cli, the command, its sub-command."""
    command, sub = proc.command, proc.sub
    ver = FAMILY[p.family][2]
    if ver == "1-0-0":
        keys = sorted(k for k, v in {**opts, **(sub_opts or {})}.items() if v not in (None, False))
        data: dict[str, Any] = {"command": command, "sub_command": sub, "option_keys": keys}
        return [sd("cli_context", "1-0-0", dumps(data))]
    cli_opts = dict(OPTIONS["cli|"])
    if p.env_via_option and p.env_name and command in ENV_COMMANDS:
        cli_opts["environment"] = sha(repr(p.env_name))
    out = []
    if command != "init":
        data = {"command": "cli", "parent_command_hint": None, "options": cli_opts}
        out.append(sd("cli_context", ver, dumps(data)))
    data = {"command": command, "parent_command_hint": "cli", "options": opts}
    out.append(sd("cli_context", ver, dumps(data)))
    if sub and not only_group:
        data = {"command": sub, "parent_command_hint": command, "options": sub_opts or {}}
        out.append(sd("cli_context", ver, dumps(data)))
    return out


class Contexts:
    """Encoded contexts and payloads for one output format, with their caches."""

    def __init__(self, fmt: Format) -> None:
        self.fmt = fmt
        self.enc = fmt.enc
        #: the start of the contexts column, up to the first context
        self.head = fmt.enc(CONTEXTS_HEAD)
        self._exc_json = {k: dumps(v) for k, v in EXCEPTIONS.items()}
        self._plugin_json: dict[tuple[str, str], str] = {}
        #: (name, command or "[]") per plugin -> the text around the context id
        self._plugins_tpl: dict[tuple[tuple[str, object], ...], list[str]] = {}
        self._exc_tpl: dict[str | None, list[str]] = {}
        self._unstruct: dict[tuple[str, str, str], str] = {}
        self._exit_tpl: dict[tuple[str, int], list[str]] = {}
        self._blocks: dict[tuple[tuple[str, ...], bool], list[Block]] = {}

    def environment(self, p: Project, ctx_uuid: str, parent: str | None, t0: int) -> str:
        """The encoded environment_context, from pieces split once per project."""
        pieces = p.env_pieces
        if pieces is None:
            text = self.enc(environment_context(p, "@CU@", "@PA@", "@T0@"))
            a, rest = text.split("@CU@")
            marker = self.enc('"@PA@"')
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

    def project(
        self,
        p: Project,
        ctx_uuid: str,
        env_hash: str | None,
        project_id: str,
        source: str,
        send: bool = True,
    ) -> str:
        """The encoded project_context, from pieces cached per project."""
        key = (project_id, source, env_hash, p.client, send, p.usage_source)
        pieces = p.proj_cache.get(key)
        if pieces is None:
            if len(p.proj_cache) > 64:  # CI jobs change the client id every time
                p.proj_cache.clear()
            text = project_context(p, "@CU@", env_hash, project_id, source, send)
            pieces = p.proj_cache[key] = self.enc(text).split("@CU@")
        return pieces[0] + ctx_uuid + pieces[1]

    def cli(self, p: Project, proc: Process, usage: bool) -> str:
        """``,`` + the encoded cli contexts of ``proc`` (cached per project unless opts vary)."""
        cache_key = (proc.command, proc.sub, usage, proc.blocks_hash)
        cacheable = proc.opts is None
        if cacheable:
            text = p.cli_cache.get(cache_key)
            if text is not None:
                return text
        opts = proc.opts if proc.opts is not None else dict(OPTIONS.get(f"{proc.command}|cli", {}))
        sub_opts = proc.sub_opts
        if proc.sub and sub_opts is None:
            sub_opts = dict(OPTIONS.get(f"{proc.sub}|{proc.command}", {}))
        if proc.blocks_hash is not None:
            opts = {**opts, "blocks": proc.blocks_hash}
        text = self.enc("," + ",".join(cli_contexts(p, proc, opts, sub_opts, only_group=usage)))
        if cacheable:
            p.cli_cache[cache_key] = text
        return text

    def _plugin_entry(self, name: str, command: str | list[str] | None) -> str:
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

    def plugins(self, p: Project, ms: int, plugins: Sequence[PluginRef]) -> str:
        """The encoded plugins_context with a fresh context id."""
        tpl = self._plugins_pieces(plugins)
        return tpl[0] + p.new_id(ms) + tpl[1]

    def _plugins_pieces(self, plugins: Sequence[PluginRef]) -> list[str]:
        """The encoded plugins_context before and after its context id."""
        key = tuple((n, "[]" if c.__class__ is list else c) for n, c in plugins)
        tpl = self._plugins_tpl.get(key)
        if tpl is None:
            body = ",".join(self._plugin_entry(n, c) for n, c in plugins)
            text = sd("plugins_context", "1-0-0", '{"context_uuid":"@U@","plugins":[%s]}' % body)  # noqa: UP031
            tpl = self._plugins_tpl[key] = self.enc(text).split("@U@")
        return tpl

    def blocks(self, family: str, pipeline: Pipeline) -> list[Block]:
        """What the blocks of ``pipeline`` send in `meltano run` (cached per pipeline)."""
        key = (pipeline.blocks, family == "v4")
        blocks = self._blocks.get(key)
        if blocks is None:
            blocks = self._blocks[key] = [self._block(family, b) for b in pipeline.plugins]
        return blocks

    def _block(self, family: str, plugins: list[PluginRef]) -> Block:
        """One block: an extract-load block or a command (`dbt-x:run`)."""
        name = plugins[0][0]
        is_el = name in PLUGIN_POOL and PLUGIN_POOL[name][0] == "extractors"
        btype = "ExtractLoadBlocks" if is_el else "InvokerCommand"
        if family == "v4" and is_el:  # Meltano 4 sends [] as the command of extract-load blocks
            plugins = [(n, []) for n, _ in plugins]
        payloads = [
            self.unstruct("block_event", "1-0-0", f'{{"type":"{btype}","event":"{event}"}}')
            for event in ("initialized", "completed", "failed")
        ]
        return Block(self._plugins_pieces(plugins), *payloads)

    def exception(self, p: Project, ms: int, key: str | None) -> str:
        """``,`` + the encoded exception_context (``key``: see templates.json; None: none)."""
        tpl = self._exc_tpl.get(key)
        if tpl is None:
            exc = "null" if key is None else self._exc_json[key]
            data = '{"context_uuid":"@U@","exception":%s}' % exc  # noqa: UP031
            text = "," + sd("exception_context", "1-0-0", data)
            tpl = self._exc_tpl[key] = self.enc(text).split("@U@")
        return tpl[0] + p.new_id(ms) + tpl[1]

    def unstruct(self, name: str, version: str, data_json: str) -> str:
        """The encoded unstruct_event column of a com.meltano event with constant data."""
        key = (name, version, data_json)
        text = self._unstruct.get(key)
        if text is None:
            text = self._unstruct[key] = self.enc(
                UNSTRUCT_HEAD + sd(name, version, data_json) + "}"
            )
        return text

    def exit_unstruct(self, version: str, code: int, exit_ts: str, exit_us: int) -> str:
        """The encoded unstruct_event column of an exit_event, from pieces split once."""
        tpl = self._exit_tpl.get((version, code))
        if tpl is None:
            data = (
                f'{{"exit_code":{code},"exit_timestamp":"@TS@",'
                '"process_duration_microseconds":@US@}'
            )
            text = UNSTRUCT_HEAD + sd("exit_event", version, data) + "}"
            a, rest = self.enc(text).split("@TS@")
            tpl = self._exit_tpl[version, code] = [a, *rest.split("@US@")]
        return f"{tpl[0]}{exit_ts}{tpl[1]}{exit_us}{tpl[2]}"
