"""Benchmark `kpis generate`: rows/s writing JSONL and TSV (about 140k rows each by default).

Usage: python scripts/benchmarks/bench_generate.py [--projects N] [--days D] [--workers W]
Prints rows/s and MB/s per format and exits 0. Output goes to a temporary folder.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--projects", type=int, default=300)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--formats", default="jsonl,tsv")
    args = parser.parse_args()
    from telemetry_kpis.generate.command import generate

    with tempfile.TemporaryDirectory(prefix="bench-generate-") as tmp:
        for fmt in args.formats.split(","):
            out = Path(tmp) / f"bench.{fmt}"
            t0 = time.perf_counter()
            summary = generate(
                projects=args.projects,
                days=args.days,
                start_date="2026-01-01",
                seed=1,
                output=out,
                fmt=fmt,
                noise={},
                workers=args.workers,
                progress=False,
            )
            elapsed = time.perf_counter() - t0
            size = out.stat().st_size / 1e6
            print(
                f"{fmt:5s} {summary['rows']:>9,} rows  {elapsed:6.2f}s  "
                f"{summary['rows'] / elapsed:>9,.0f} rows/s  {size / elapsed:7.1f} MB/s  "
                f"({size / summary['rows'] * 1000:.1f} KB/row)"
            )
            out.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
