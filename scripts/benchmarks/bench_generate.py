"""Benchmark `kpis generate`: events/s writing JSONL and TSV to a plain file.

Usage: python scripts/benchmarks/bench_generate.py [--projects N] [--days D] [--workers W]
       [--repeat R] [--formats jsonl,tsv] [--fsync] [--dir DIR] [--target 100000]

Each format is generated R times (same seed: same bytes); the best and the median of the
wall-clock rate are printed, with MB/s, the CPU time used (parent + workers, so the figure
that other load on the machine does not change much) and whether the target holds.
The disk's sequential write speed is measured once (with fsync) to tell when a format is
disk-bound: at K KB/row a disk of D MB/s cannot take more than D/K*1000 rows/s, whatever the
generator does. Without --fsync the output may still sit in the page cache when the clock
stops (the kernel writes it back later); --fsync includes the write-back in the time.
Output goes to a temporary folder (in --dir, default: the system temporary folder).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def disk_write_mb_s(folder: Path, size_mb: int = 256) -> float:
    """Sequential write speed of ``folder``'s disk in MB/s (best of two, fsync included)."""
    block = os.urandom(1 << 20)
    best = 0.0
    path = folder / "disk-probe.bin"
    for _ in range(2):
        t0 = time.perf_counter()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            for _ in range(size_mb):
                os.write(fd, block)
            os.fsync(fd)
        finally:
            os.close(fd)
        best = max(best, size_mb * 1.048576 / (time.perf_counter() - t0))
        path.unlink()
    return best


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--projects", type=int, default=300)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--workers", type=int, default=None, help="default: CPU count, max 4")
    parser.add_argument("--formats", default="jsonl,tsv")
    parser.add_argument("--repeat", type=int, default=3, help="runs per format (3)")
    parser.add_argument("--fsync", action="store_true", help="include fsync of the output")
    parser.add_argument("--dir", type=Path, default=None, help="where to write")
    parser.add_argument("--target", type=float, default=100_000, help="events/s (100000)")
    parser.add_argument("--no-disk-probe", action="store_true", help="skip the disk speed test")
    args = parser.parse_args()
    from telemetry_kpis.generate.command import generate

    workers = args.workers or min(4, os.cpu_count() or 1)
    print(
        f"kpis generate benchmark: {args.projects} projects x {args.days} days, "
        f"{workers} worker(s), {os.cpu_count()} CPU(s), load average "
        f"{os.getloadavg()[0]:.1f}, {args.repeat} run(s) per format"
        + (", fsync included" if args.fsync else "")
    )
    verdicts = []
    with tempfile.TemporaryDirectory(prefix="bench-generate-", dir=args.dir) as tmp:
        disk = None if args.no_disk_probe else disk_write_mb_s(Path(tmp))
        if disk:
            print(f"disk sequential write (fsync): {disk:,.0f} MB/s")
        for fmt in args.formats.split(","):
            out = Path(tmp) / f"bench.{fmt}"
            rates, cpu_rates, sizes = [], [], []
            rows = 0
            for _ in range(args.repeat):
                cpu0 = _cpu_seconds()
                t0 = time.perf_counter()
                summary = generate(
                    projects=args.projects,
                    days=args.days,
                    start_date="2026-01-01",
                    seed=1,
                    output=out,
                    fmt=fmt,
                    noise={},
                    workers=workers,
                    progress=False,
                )
                if args.fsync:
                    fd = os.open(out, os.O_RDONLY)
                    try:
                        os.fsync(fd)
                    finally:
                        os.close(fd)
                elapsed = time.perf_counter() - t0
                cpu = _cpu_seconds() - cpu0
                rows = summary["events"]
                rates.append(rows / elapsed)
                cpu_rates.append(rows / cpu if cpu > 0 else float("inf"))
                sizes.append(out.stat().st_size)
                out.unlink()
            kb_row = sizes[0] / rows / 1000
            best, median = max(rates), statistics.median(rates)
            print(
                f"{fmt:5s} {rows:>9,} events  best {best:>9,.0f} events/s "
                f"({best * kb_row / 1000:6.1f} MB/s)  median {median:>9,.0f} events/s  "
                f"[{kb_row:.2f} KB/row; {max(cpu_rates):,.0f} events per CPU-second]"
            )
            ok = best >= args.target
            line = f"  target {args.target:,.0f} events/s: {'MET' if ok else 'NOT met'}"
            if disk:
                cap = disk * 1000 / kb_row
                line += f"; this disk caps {fmt} at about {cap:,.0f} events/s"
                if cap < args.target:
                    line += " (disk-bound: the target needs "
                    line += f"{args.target * kb_row / 1000:,.0f} MB/s)"
            print(line)
            verdicts.append(ok)
    print("target holds" if all(verdicts) else "target does not hold for every format")
    return 0


if __name__ == "__main__":
    sys.exit(main())
