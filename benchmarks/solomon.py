"""The planner's solver call (field_ops.routing.solver.solve) on the 56 Solomon VRPTW instances.

Distances follow the distance-only BKS convention (euclidean truncated to one decimal, x10 as
integers: PyVRP's "dimacs" rounding). Prints the gap to the best-known distance per instance
and the mean and worst gap per time budget.

    python -m benchmarks.solomon [--budgets 1 5] [--instances R101 C201 ...] [--direct]

`--direct` calls pyvrp.solve on the instance as read, bypassing the adapter: the same budget
and seed, to tell the adapter's cost from the machine's speed.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
from pathlib import Path

import pyvrp
from pyvrp.stop import MaxRuntime

from field_ops.routing.solver import Job, Problem, Site, Vehicle, solve

SOLOMON = Path(os.environ.get("SOLOMON_DIR", "/work/shared/benchmarks/solomon"))


def load_problem(path: Path) -> Problem:
    data = pyvrp.read(str(path), round_func="dimacs")
    vehicle_type = data.vehicle_type(0)
    return Problem(
        num_locations=data.num_locations,
        depots=[Site(location=data.depot(i).location) for i in range(data.num_depots)],
        jobs=[
            Job(
                location=client.location,
                service_duration=client.service_duration,
                tw_early=client.tw_early,
                tw_late=client.tw_late,
                required=True,
                demand=client.delivery[0],
            )
            for client in (data.client(i) for i in range(data.num_clients))
        ],
        vehicles=[
            Vehicle(
                start_depot=vehicle_type.start_depot,
                end_depot=vehicle_type.end_depot,
                tw_early=vehicle_type.tw_early,
                tw_late=vehicle_type.tw_late,
                num_available=vehicle_type.num_available,
                capacity=vehicle_type.capacity[0],
            )
        ],
        distance_matrices=[data.distance_matrix(0)],
        duration_matrices=[data.duration_matrix(0)],
    )


def best_known() -> dict[str, float]:
    with open(SOLOMON / "bks.csv", newline="") as handle:
        return {
            row["instance"]: float(row["distance"])
            for row in csv.DictReader(handle)
            if row["convention"] == "distance_only"
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budgets", type=float, nargs="+", default=[1.0, 5.0])
    parser.add_argument("--instances", nargs="*")
    parser.add_argument("--direct", action="store_true", help="call pyvrp.solve directly, not the adapter")
    args = parser.parse_args()
    bks = best_known()
    names = args.instances or sorted(bks)
    gaps: dict[float, list[float]] = {budget: [] for budget in args.budgets}
    print(f"{'instance':<8} " + " ".join(f"{f'gap@{b:g}s':>10}" for b in args.budgets))
    for name in names:
        problem = load_problem(SOLOMON / "instances" / f"{name}.vrp")
        row = []
        for budget in args.budgets:
            if args.direct:
                data = pyvrp.read(str(SOLOMON / "instances" / f"{name}.vrp"), round_func="dimacs")
                best = pyvrp.solve(data, stop=MaxRuntime(budget), seed=1, display=False).best
                assert best.is_feasible(), f"{name}: infeasible"
                distance = best.distance()
            else:
                plan = solve(problem, time_limit_s=budget, seed=1)
                assert plan.feasible and not plan.unplanned_jobs, f"{name}: infeasible or incomplete"
                distance = plan.distance
            gap = 100 * (distance / 10 - bks[name]) / bks[name]
            gaps[budget].append(gap)
            row.append(f"{gap:9.2f}%")
        print(f"{name:<8} " + " ".join(f"{cell:>10}" for cell in row), flush=True)
    print()
    for budget, values in gaps.items():
        mean, worst = statistics.mean(values), max(values)
        print(f"budget {budget:g} s: mean gap {mean:.2f} %, worst {worst:.2f} % over {len(values)} instances")


if __name__ == "__main__":
    main()
