"""`kpis generate`: synthetic Meltano CLI telemetry.

From the bottom up:

- catalogue: what projects are drawn from (releases, schema versions, plugins, archetypes)
- iglu, stamps: JSON text and hashes as the CLI sends them; timestamps, UUIDs, draws
- rows: Snowplow enriched-event rows as JSONL or TSV text
- project: who a project is; lifecycle: how it behaves over time
- contexts, shapes: the contexts of an event; which events each command sends
- emit, noise, output: the rows of a CLI process, the noise on top, the row buffer
- generator: a range of projects into rows; parts: parallel writing, same bytes
- command: the `kpis generate` CLI

The package itself imports nothing, so that `kpis --help` stays fast.
"""
