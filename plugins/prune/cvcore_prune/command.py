"""``cvcore prune RUN --macs 0.5 --out DIR``: prune a pipeline and save it as a new run, ready to fine-tune with ``cvcore train``."""
from __future__ import annotations

import argparse
from pathlib import Path

from cvcore.cli import three_figures
from cvcore.deploy.profile import profile
from cvcore.pipeline import Pipeline

from .importance import CRITERIA
from .pruning import prune


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="RUN", help="saved pipeline folder, pipeline config (.toml) or zoo model name")
    budget = parser.add_mutually_exclusive_group(required=True)
    budget.add_argument("--macs", type=float, metavar="RATIO", help="keep this fraction of the multiply-adds (0.5: half)")
    budget.add_argument("--params", type=float, metavar="RATIO", help="keep this fraction of the trainable parameters")
    parser.add_argument("--criterion", choices=CRITERIA, default="bn_scale",
                        help="channel importance: BatchNorm scale (default), filter L1 norm, or mean activation on --calib data")
    parser.add_argument("--calib", metavar="DIR", help="dataset root whose --calib-split feeds the 'activation' criterion")
    parser.add_argument("--calib-split", default="train")
    parser.add_argument("--multiple", type=int, default=8, help="widths are rounded up to multiples of this (default 8)")
    parser.add_argument("--pretrained", nargs="?", const=True, default=False, metavar="FILE",
                        help="for a zoo model: load its zoo weights, or the .params FILE")
    parser.add_argument("--out", help="folder of the pruned pipeline (default: RUN-pruned)")


def run(args: argparse.Namespace) -> int:
    pipeline = Pipeline.open(args.target, args.pretrained)
    if pipeline.deployed:
        pipeline = pipeline.trainable()
    measure, target = ("macs", args.macs) if args.macs is not None else ("params", args.params)
    calib = pipeline.dataset_at(args.calib, args.calib_split) if args.calib else None
    pruned = prune(pipeline, target, measure=measure, criterion=args.criterion, calib_data=calib, multiple=args.multiple)
    out = Path(args.out or f"{str(args.target).rstrip('/')}-pruned")
    pruned.save(out)
    before, after = profile(pipeline), profile(pruned)
    rows = [("parameters (M)", before.trainable_params / 1e6, after.trainable_params / 1e6),
            ("multiply-adds (G)", before.macs / 1e9, after.macs / 1e9)]
    for what, old, new in rows:
        print(f"{what:>18}: {three_figures(old)} -> {three_figures(new)} ({new / old:.3f})")
    print(f"saved the pruned pipeline to {out}; fine-tune it with: cvcore train {out} --epochs N "
          f"(--set teacher={args.target} distils from the original)")
    return 0
