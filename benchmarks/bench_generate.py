"""Time the synthetic clinic generator: rows per table, seconds, rows/s and peak memory.

    python benchmarks/bench_generate.py --patients 1000000 --out benchmarks/out/clinic_1m

The 1M-patient Parquet data set it writes is the one the other benchmarks use. Prints figures;
asserts nothing (timings belong here, never in tests).
"""

from __future__ import annotations

import argparse
import platform
import resource
import shutil
import sys
from pathlib import Path

from synthetic.generator import generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/clinic"))
    parser.add_argument("--format", choices=("csv", "parquet"), default="parquet")
    args = parser.parse_args(argv)
    if args.out.exists():
        shutil.rmtree(args.out)
    command = (f"python benchmarks/bench_generate.py --patients {args.patients} "
               f"--seed {args.seed} --out {args.out} --format {args.format}")
    result = generate(args.patients, args.seed, args.out, fmt=args.format, command=command)
    total = sum(result.rows.values())
    # ru_maxrss is in KiB on Linux.
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size_mb = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file()) / 1e6
    print(f"machine: {platform.machine()}, python {platform.python_version()}, "
          f"{len(__import__('os').sched_getaffinity(0))} cores available")
    print(f"patients {args.patients:,}, seed {args.seed}, format {args.format}, out {args.out}")
    for name, count in result.rows.items():
        print(f"  {name:<14}{count:>14,}")
    print(f"  {'total':<14}{total:>14,}")
    print(f"seconds {result.seconds:.1f}, rows/s {total / result.seconds:,.0f}, "
          f"peak RSS {peak_mb:,.0f} MB, output {size_mb:,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
