"""`kpis generate`: schemas, determinism, CLI event sequences, noise, formats."""

from __future__ import annotations

import collections
import gzip
import json
import re
from pathlib import Path

import pytest

from telemetry_kpis.atomic import ATOMIC_COLUMNS
from telemetry_kpis.generate.command import generate

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "telemetry"
IGLU = SHARED / "iglu" / "com.meltano"
REAL_EVENTS = SHARED / "real_cli_events.jsonl"

UUIDS = re.compile(
    r'"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"|'
    r'"\d{4}-\d\d-\d\dT[0-9:.]+\+00:00"|\d{4,}'
)
NOISE = {
    "duplicate": 0.03,
    "late": 0.02,
    "malformed": 0.01,
    "no_project": 0.01,
    "unknown_version": 0.005,
    "unknown_event": 0.005,
    "skew": 0.2,
}


def _gen(tmp: Path, name: str, **kw) -> tuple[Path, dict]:
    args = {
        "projects": 40,
        "days": 40,
        "start_date": "2026-03-01",
        "seed": 5,
        "fmt": "jsonl",
        "noise": NOISE,
        "workers": 1,
        "progress": False,
    }
    args.update(kw)
    out = tmp / name
    generate(output=out, truth_path=tmp / (name + ".truth.json"), **args)
    return out, json.loads((tmp / (name + ".truth.json")).read_text())


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[list[dict], dict, list[str]]:
    tmp = tmp_path_factory.mktemp("gen")
    out, truth = _gen(tmp, "sample.jsonl")
    lines = out.read_text().splitlines()
    return [json.loads(line) for line in lines], truth, lines


def _ctxs(row: dict) -> list[dict]:
    return json.loads(row["contexts"])["data"] if row["contexts"] else []


def _name_version(schema: str) -> tuple[str, str]:
    parts = schema.split("/")
    return parts[1], parts[3]


def _validator(name: str, version: str):
    import jsonschema

    path = IGLU / name / "jsonschema" / version
    if not path.is_file():
        return None
    schema = json.loads(path.read_text())
    schema.pop("$schema", None)
    return jsonschema.Draft7Validator(schema)


def _noise_lines(
    truth: dict, kinds=("malformed", "no_project", "unknown_version", "unknown_event")
) -> set[int]:
    return {r["line"] for r in truth["noise_rows"] if r["kind"] in kinds}


def test_rows_follow_iglu_schemas_except_listed_noise(sample) -> None:
    rows, truth, lines = sample
    noise = _noise_lines(truth)
    validators: dict = {}
    valid_shapes: set = set()
    bad_lines: set[int] = set()
    checked = collections.Counter()
    for no, row in enumerate(rows, 1):
        problems = []
        try:
            if row["event_id"] is None:
                raise ValueError("no event_id")
            ctxs = _ctxs(row)
            docs = [c for c in ctxs]
            if row["event"] == "unstruct":
                docs.append(json.loads(row["unstruct_event"])["data"])
            if row["derived_tstamp"][4] != "-" or int(row["derived_tstamp"][5:7]) > 12:
                raise ValueError("bad derived_tstamp")
        except (ValueError, TypeError, IndexError):
            bad_lines.add(no)
            continue
        has_project = any("project_context" in c["schema"] for c in ctxs)
        if row["event"] == "unstruct" and not has_project:
            problems.append("no project context")
        for doc in docs:
            name, version = _name_version(doc["schema"])
            key = (name, version)
            if key not in validators:
                validators[key] = _validator(name, version)
            validator = validators[key]
            if validator is None:
                problems.append(f"unknown schema {key}")
                continue
            shape = UUIDS.sub("u", json.dumps(doc["data"], sort_keys=True))
            if (key, shape) in valid_shapes:
                checked[key] += 1
                continue
            errors = list(validator.iter_errors(doc["data"]))
            if not errors:
                valid_shapes.add((key, shape))
            if name == "plugins_context" and row["event_name"] == "block_event":
                # Meltano 4.x: extract-load block plugins carry "command": [] (documented bug)
                errors = [e for e in errors if list(e.path)[-1:] != ["command"] or e.instance != []]
            if errors:
                problems.append(f"{key}: {errors[0].message}")
            checked[key] += 1
        if problems:
            bad_lines.add(no)
    assert bad_lines == noise
    for key in [
        ("cli_event", "1-0-1"),
        ("cli_event", "1-0-0"),
        ("exit_event", "1-0-0"),
        ("exit_event", "1-0-1"),
        ("block_event", "1-0-0"),
        ("cli_context", "1-0-0"),
        ("cli_context", "1-1-0"),
        ("environment_context", "1-3-0"),
        ("environment_context", "1-0-0"),
        ("project_context", "1-0-0"),
        ("project_context", "1-1-0"),
        ("plugins_context", "1-0-0"),
        ("exception_context", "1-0-0"),
        ("telemetry_state_change_event", "1-0-0"),
    ]:
        assert checked[key] > 0, key


def test_same_keys_as_the_real_cli(sample) -> None:
    rows, truth, _ = sample
    noise = _noise_lines(truth)

    def shapes(items):
        out: dict = {}
        for row in items:
            for c in _ctxs(row):
                out.setdefault(("ctx",) + _name_version(c["schema"]), set()).add(
                    tuple(sorted(c["data"]))
                )
            if row["event"] == "unstruct":
                doc = json.loads(row["unstruct_event"])["data"]
                out.setdefault(("ev",) + _name_version(doc["schema"]), set()).add(
                    tuple(sorted(doc["data"]))
                )
        return out

    real = shapes(json.loads(line) for line in REAL_EVENTS.read_text().splitlines())
    ours = shapes(r for no, r in enumerate(rows, 1) if no not in noise)
    for key, real_shapes in real.items():
        if key[1] == "cli_context":
            continue  # options differ per command; checked below
        assert key in ours, key
        assert ours[key] == real_shapes, key
    assert set(rows[0]) == set(ATOMIC_COLUMNS) | {"uploaded_at", "load_tstamp"}
    assert list(rows[0])[:131] == list(ATOMIC_COLUMNS)


def _executions(rows, noise):
    ex = collections.defaultdict(list)
    for no, row in enumerate(rows, 1):
        if no in noise or row["event"] != "unstruct":
            continue
        for c in _ctxs(row):
            if "project_context" in c["schema"]:
                ex[c["data"]["context_uuid"]].append(row)
    return ex


def _event(row):
    doc = json.loads(row["unstruct_event"])["data"]
    return row["event_name"], doc["data"]


def test_sequences(sample) -> None:
    rows, truth, _ = sample
    noise = _noise_lines(truth) | _noise_lines(truth, ("duplicate",))
    ex = _executions(rows, noise)
    seen = collections.Counter()
    env_uuids = {}
    for cu, events in ex.items():
        names = [_event(r) for r in events]
        cmds = [c["data"]["command"] for c in _ctxs(events[0]) if "cli_context" in c["schema"]]
        env = next(c["data"] for c in _ctxs(events[0]) if "environment_context" in c["schema"])
        env_uuids[env["context_uuid"]] = (cu, cmds)
        kinds = [n for n, _ in names]
        if kinds == ["telemetry_state_change_event"]:
            seen["optout_state_change"] += 1
            schemas = [_name_version(c["schema"])[0] for c in _ctxs(events[0])]
            assert schemas == ["environment_context", "project_context"]
            continue
        assert kinds[-1] == "exit_event", kinds
        exit_data = names[-1][1]
        assert any("exception_context" in c["schema"] for c in _ctxs(events[-1]))
        if exit_data["exit_code"] == 2:
            seen["usage"] += 1
            assert kinds == ["exit_event"]
            assert cmds[0] == "cli" and len(cmds) == 2
        if cmds[-1:] == ["init"] or cmds[-2:] == ["schedule", "add"]:
            assert kinds == ["cli_event", "exit_event"]
        if "run" in cmds and cmds[0] == "cli" and cmds[1] == "run":
            seen["run"] += 1
            blocks = next(
                c["data"]["options"]["blocks"]
                for c in _ctxs(events[0])
                if "cli_context" in c["schema"] and c["data"]["command"] == "run"
            )
            assert len(blocks) == 64
            evs = [d.get("event") for n, d in names if n != "exit_event"]
            if exit_data["exit_code"] == 1 and "aborted" in evs:
                seen["run_abort"] += 1
                assert evs == ["started", "aborted"]
            elif exit_data["exit_code"] == 1:
                seen["run_fail"] += 1
                assert evs[:3] == ["started", "initialized", "failed"] and evs[-1] == "failed"
            for r in events:
                if r["event_name"] == "cli_event":
                    assert not any("plugins_context" in c["schema"] for c in _ctxs(r))
                if r["event_name"] == "block_event":
                    plug = [c for c in _ctxs(r) if "plugins_context" in c["schema"]]
                    assert len(plug) == 1
        if (
            len(cmds) > 1
            and cmds[1] in ("install", "invoke", "el", "elt")
            and "1-0-1" in events[0]["event_version"]
            and exit_data["exit_code"] == 0
        ):
            assert [d.get("event") for n, d in names][:2] == ["started", "inflight"]
            assert any("plugins_context" in c["schema"] for c in _ctxs(events[1]))
    # schedule run: the child run links to the parent's environment context
    links = 0
    for events in ex.values():
        env = next(c["data"] for c in _ctxs(events[0]) if "environment_context" in c["schema"])
        parent = env.get("parent_context_uuid")
        if parent:
            assert env_uuids[parent][1][1:] == ["schedule", "run"]
            links += 1
    assert links > 0
    assert seen["usage"] > 0 and seen["run_fail"] > 0 and seen["optout_state_change"] > 0


def test_optout_sends_nothing_after_state_change(sample) -> None:
    rows, truth, _ = sample
    noise = _noise_lines(truth) | _noise_lines(truth, ("duplicate",))
    by_project = collections.defaultdict(list)
    for no, row in enumerate(rows, 1):
        if no in noise or row["event"] != "unstruct":
            continue
        pc = next((c["data"] for c in _ctxs(row) if "project_context" in c["schema"]), None)
        if pc:
            by_project[pc["project_uuid"]].append(row)
    optouts = 0
    for events in by_project.values():
        events.sort(key=lambda r: r["derived_tstamp"])
        changes = [
            i
            for i, r in enumerate(events)
            if r["event_name"] == "telemetry_state_change_event"
            and json.loads(r["unstruct_event"])["data"]["data"]["changed_to"] is False
        ]
        for i in changes:
            optouts += 1
            after = events[i + 1 :]
            # nothing until an opt-in state change
            if after:
                first = json.loads(after[0]["unstruct_event"])["data"]["data"]
                assert after[0]["event_name"] == "telemetry_state_change_event"
                assert first["changed_to"] is True
    assert optouts > 0


def test_ci_jobs_random_then_explicit(sample) -> None:
    rows, truth, _ = sample
    noise = _noise_lines(truth) | _noise_lines(truth, ("duplicate",))
    ci = [p for p in truth["projects"] if p["archetype"] == "ci_only"]
    assert ci, "sample should hold a CI-only project"
    ex = _executions(rows, noise)
    by_id = collections.defaultdict(list)
    for events in ex.values():
        pc = next(c["data"] for c in _ctxs(events[0]) if "project_context" in c["schema"])
        env = next(c["data"] for c in _ctxs(events[0]) if "environment_context" in c["schema"])
        by_id[pc["project_uuid"]].append((events[0]["derived_tstamp"], pc, env))
    pid = ci[0]["project_ids"][0]
    job = sorted(by_id[pid], key=lambda x: x[0])
    assert [pc["project_uuid_source"] for _, pc, _ in job] == ["random", "explicit"]
    assert all(env["is_ci_environment"] for _, _, env in job)
    clients = {pc["client_uuid"] for _, pc, _ in job}
    assert len(clients) == 1
    other = ci[0]["project_ids"][1]
    assert {pc["client_uuid"] for _, pc, _ in by_id[other]} != clients


def test_legacy_struct_events(sample) -> None:
    rows, truth, _ = sample
    struct = [r for r in rows if r["event"] == "struct"]
    assert struct
    with_ctx = [r for r in struct if r["contexts"]]
    without = [r for r in struct if not r["contexts"]]
    assert with_ctx and without
    for r in struct:
        assert r["se_category"].startswith("meltano ")
        assert r["se_action"].startswith("meltano ")
        assert len(r["se_label"]) == 36
    for r in with_ctx:
        names = {_name_version(c["schema"]) for c in _ctxs(r)}
        assert ("cli_context", "1-0-0") in names or ("cli_context", "1-1-0") in names
        assert ("project_context", "1-0-0") in names


def test_noise_rates_roughly_honoured(sample) -> None:
    rows, truth, _ = sample
    counts = truth["noise_counts"]
    n = len(rows)
    assert 0.015 < counts["duplicate"] / n < 0.05
    assert 0.01 < counts["late"] / n < 0.035
    assert 0.004 < counts["malformed"] / n < 0.02
    dup_ids = [r["event_id"] for r in truth["noise_rows"] if r["kind"] == "duplicate"]
    ids = collections.Counter(r["event_id"] for r in rows)
    assert all(ids[i] >= 2 for i in dup_ids)
    late = sum(1 for r in rows if r["uploaded_at"][:10] > r["collector_tstamp"][:10])
    assert late > 0
    # late and duplicate copies are delivered by the end of the window (2026-03-01 + 40 days)
    # at the latest, unless the original itself was uploaded after it (minutes after midnight)
    uploads = sorted(r["uploaded_at"] for r in rows)
    assert uploads[-1] < "2026-04-10 00:10"
    assert sum(1 for u in uploads if u.startswith("2026-04-09 23:59:59.999")) > 0  # capped ones


def test_end_date_window(tmp_path: Path) -> None:
    """--end-date D --days N is the window of N days up to and including D."""
    import datetime as dt

    from telemetry_kpis.cli import main
    from telemetry_kpis.generate.command import window_start

    assert window_start(None, "2026-12-05", 150) == "2026-07-09"
    assert window_start("2026-01-05", None, 3) == "2026-01-05"
    assert window_start(None, None, 3) == "2026-01-01"
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    assert window_start(None, "yesterday", 1) == yesterday.isoformat()
    out = tmp_path / "y.jsonl"
    assert main(["generate", "--projects", "3", "--days", "20", "--end-date", "2026-02-10",
                 "--noise", "-q", "-o", str(out)]) == 0  # fmt: skip
    days = {json.loads(line)["collector_tstamp"][:10] for line in out.read_text().splitlines()}
    assert max(days) <= "2026-02-10" and min(days) >= "2026-01-22"
    assert main(["generate", "--end-date", "soon", "-o", str(tmp_path / "z.jsonl")]) == 2
    both = ["--start-date", "2026-01-01", "--end-date", "2026-02-01"]
    with pytest.raises(SystemExit):  # argparse: mutually exclusive
        main(["generate", *both, "-o", str(tmp_path / "z.jsonl")])


def test_deterministic(tmp_path: Path) -> None:
    a, _ = _gen(tmp_path, "a.jsonl", projects=12, days=30)
    b, _ = _gen(tmp_path, "b.jsonl", projects=12, days=30, workers=2)
    c, _ = _gen(tmp_path, "c.jsonl", projects=12, days=30, seed=8)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    g1, _ = _gen(tmp_path, "g1.jsonl.gz", projects=12, days=30)
    g2, _ = _gen(tmp_path, "g2.jsonl.gz", projects=12, days=30, workers=2)
    assert g1.read_bytes() == g2.read_bytes()
    assert gzip.decompress(g1.read_bytes()) == a.read_bytes()


def test_noise_does_not_change_clean_events(tmp_path: Path) -> None:
    clean, t1 = _gen(tmp_path, "clean.jsonl", projects=10, days=30, noise={})
    noisy, t2 = _gen(tmp_path, "noisy.jsonl", projects=10, days=30)

    def strip(projects):
        return [{k: v for k, v in p.items() if k != "clock_skew_ms"} for p in projects]

    assert strip(t1["projects"]) == strip(t2["projects"])
    ids_clean = {json.loads(x)["event_id"] for x in clean.read_text().splitlines()}
    noise = _noise_lines(t2)
    ids_noisy = {
        json.loads(x)["event_id"]
        for no, x in enumerate(noisy.read_text().splitlines(), 1)
        if no not in noise
    }
    assert ids_clean == ids_noisy


def test_tsv_has_131_fields(tmp_path: Path) -> None:
    out, _ = _gen(tmp_path, "s.tsv", projects=10, days=20, fmt="tsv")
    lines = out.read_text().split("\n")
    assert lines[-1] == ""
    for line in lines[:-1]:
        assert len(line.split("\t")) == 131
    first = lines[0].split("\t")
    assert first[ATOMIC_COLUMNS.index("app_id")] == "meltano"
    json.loads(first[ATOMIC_COLUMNS.index("contexts")] or "null")


def test_cli_user_errors(tmp_path: Path) -> None:
    from telemetry_kpis.cli import main

    assert main(["generate", "--projects", "2", "-o", str(tmp_path / "x.csv")]) == 2
    assert main(["generate", "--projects", "2"]) == 2
    assert main(["generate", "--noise", "--late-rate", "2", "-o", str(tmp_path / "x.jsonl")]) == 2
    assert main(["generate", "--start-date", "nope", "-o", str(tmp_path / "x.jsonl")]) == 2
    assert (
        main(["generate", "--projects", "3", "--days", "5", "-q", "-o", str(tmp_path / "ok.jsonl")])
        == 0
    )


@pytest.mark.parametrize("name", ["w.jsonl", "w.tsv", "w.jsonl.gz"])
def test_worker_count_never_changes_the_bytes(tmp_path: Path, name: str) -> None:
    # 5 parts: workers write them straight into the output in order, or via spill files
    fmt = "tsv" if ".tsv" in name else "jsonl"
    runs = [
        _gen(tmp_path, f"{w}{name}", projects=33, days=15, fmt=fmt, workers=w) for w in (1, 2, 3)
    ]
    first, truth = runs[0]
    assert first.stat().st_size > 0
    for out, other in runs[1:]:
        assert out.read_bytes() == first.read_bytes()
        assert other["noise_rows"] == truth["noise_rows"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".kpis-generate-")]


def test_fast_paths_match_the_reference_formulas() -> None:
    import datetime as dt
    import random
    import uuid

    from telemetry_kpis.generate.rows import Format, general_values
    from telemetry_kpis.generate.stamps import iso, ts, uuid4, uuid7

    for ms in (0, 1_767_225_600_000, 1_767_311_999_999, 1_800_000_000_123):
        ref = dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        assert ts(ms) == ref
        assert iso(ms, 7) == ref.replace(" ", "T") + "007+00:00"
    rng = random.Random(3)
    for _ in range(200):
        ms = rng.randrange(1 << 48)
        u7 = uuid.UUID(uuid7(rng, ms))
        assert (u7.version, u7.variant, u7.int >> 80) == (7, uuid.RFC_4122, ms)
        u4 = uuid.UUID(uuid4(rng))
        assert (u4.version, u4.variant) == (4, uuid.RFC_4122)
    values = {
        "etl": "2026-01-01 00:00:01.000",
        "collector": "2026-01-01 00:00:00.500",
        "created": "2026-01-01 00:00:00.100",
        "event_id": "e",
        "tracker": "py-1.1.0",
        "ip": "192.0.2.1",
        "nuid": "n",
        "ctx_head": 'head \\"q\\"',
        "ctx_tail": ",tail",
        "unstruct": "u",
        "tz": "Etc/UTC",
        "sent": "2026-01-01 00:00:00.000",
        "derived": "2026-01-01 00:00:00.400",
        "name": "cli_event",
        "version": "1-0-1",
        "up": "2026-01-01 00:01:00.000",
    }
    for fmt in ("jsonl", "tsv"):
        f = Format(fmt)
        v = values
        general = [
            v["etl"], v["collector"], v["created"], "unstruct", v["event_id"], v["tracker"],
            v["ip"], v["nuid"], v["ctx_head"] + v["ctx_tail"] + "]}", None, None, None,
            v["unstruct"], v["tz"], v["sent"], v["derived"], "com.meltano", v["name"],
            "jsonschema", v["version"],
        ]  # fmt: skip
        assert f.fast(**values) == f.render(general, values["up"])
        assert general_values(list(values.values())) == general
