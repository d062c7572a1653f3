"""What gathering a cluster read in parts costs: every part written to a temporary file and read back.

    python bench/gather_cost.py [--containers 300] [--days 14] [--workloads-per-part 20]

The learned margins are fitted on the whole cluster, so a report read in batches keeps each
batch's daily series and writes the batch to a temporary file until the last one has been
read (rightsizer/recommend/gather.py).  This times that round trip alone, and the
recommendations it precedes, on a synthetic cluster cut into parts of whole workloads as
the Prometheus source cuts one (the history at the report's 5-minute step, every series).
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time

from rightsizer.history import ClusterHistory
from rightsizer.recommend import recommend_parts
from rightsizer.recommend.gather import gathered
from rightsizer.recommend.margins import ClusterSeries
from rightsizer.testing.synthetic import SyntheticCluster

END = 1_790_000_000


def parts_of(history: ClusterHistory, per_part: int) -> list[ClusterHistory]:
    """The history in parts of ``per_part`` whole workloads."""
    workloads = sorted({k.workload_key for k in history.containers})
    return [history.filter(k for k in history.containers if k.workload_key in set(workloads[i:i + per_part]))
            for i in range(0, len(workloads), per_part)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--containers", type=int, default=300)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--workloads-per-part", type=int, default=20)
    args = parser.parse_args()
    history = SyntheticCluster.generate(containers=args.containers, days=args.days, end=END, seed=5).history()
    parts = parts_of(history, args.workloads_per_part)
    size = sum(len(pickle.dumps(p, protocol=pickle.HIGHEST_PROTOCOL)) for p in parts)
    began = time.perf_counter()
    for _ in gathered(iter(parts), ClusterSeries()):
        pass
    gather = time.perf_counter() - began
    began = time.perf_counter()
    recommend_parts(iter(parts))
    total = time.perf_counter() - began
    print(f"{len(history):,} containers, {args.days} days, {len(parts)} parts, {size / 1e6:,.0f} MB written and "
          f"read back: gathering {gather:.2f} s (daily series and the round trip), the whole recommendation "
          f"{total:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
