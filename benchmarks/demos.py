"""The two demos as they ship, measured: the pose demo (``cvcore demo``) and the classification demo.

Each runs its recipe from scratch on its synthetic data (reused while the recipe
asks for the same images) and the results go to ``results/demos.json``: the
learning curve (validation metric against training minutes), the final
metrics and, for pose, its INT8 rows.

    python benchmarks/demos.py [--tasks pose classification]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cvcore  # noqa: F401  (sets the thread defaults before MXNet is imported)
from cvcore.deploy.benchmark import write_report

RESULTS = Path(__file__).parent / "results"
TASKS = ("pose", "classification")


def run_demo(task: str, out: Path) -> dict:
    if task == "pose":
        from cvcore_pose import demo
    else:
        from cvcore.tasks import classification_demo as demo
    result = demo.run(out / task, progress=False)
    print(demo.report(result), flush=True)
    return {key: value for key, value in result.items() if key not in ("pipeline", "drawings")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS))
    parser.add_argument("--out", type=Path, default=Path("runs/demos"), help="where the demos write their data and runs")
    parser.add_argument("--json", type=Path, default=RESULTS / "demos.json")
    args = parser.parse_args(argv)
    results = {task: run_demo(task, args.out) for task in args.tasks}
    write_report(args.json, "demos", results=results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
