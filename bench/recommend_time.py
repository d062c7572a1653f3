"""What the learned memory margins cost: recommendation time with and without them on one synthetic cluster.

    python bench/recommend_time.py [--containers 300,2000] [--days 14] [--repeat 3]

The calibration (every container's daily peaks, the weekly rolling origins, three fits
of the quantile model) runs once per history; the rest of the recommendation is the
same in both columns.  Best of ``--repeat`` runs, in this process, after one warm-up
(the model library's import is paid once per process and shown apart).
"""

from __future__ import annotations

import argparse
import sys
import time

from rightsizer.config import PolicySet
from rightsizer.recommend import recommend
from rightsizer.testing.synthetic import SyntheticCluster

END = 1_790_000_000


def best(history: object, policies: PolicySet, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        recommend(history, policies)  # type: ignore[arg-type]
        times.append(time.perf_counter() - began)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--containers", default="300,2000")
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    began = time.perf_counter()
    import sklearn.ensemble  # noqa: F401 -- the import, timed on its own

    print(f"model library import: {time.perf_counter() - began:.2f} s\n")
    print("| containers | days | learned margins | rules only | difference |")
    print("|---:|---:|---:|---:|---:|")
    learned, rules = PolicySet(), PolicySet(overrides={"memory": {"margins": "rules"}})
    for n in (int(x) for x in args.containers.split(",")):
        history = SyntheticCluster.generate(containers=n, days=args.days, end=END, seed=5).history()
        recommend(history, learned)
        with_model, without = best(history, learned, args.repeat), best(history, rules, args.repeat)
        print(f"| {len(history):,} | {args.days} | {with_model:.2f} s | {without:.2f} s | "
              f"{with_model - without:+.2f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
