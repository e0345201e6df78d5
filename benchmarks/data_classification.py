"""Throughput of the classification input pipeline: samples/s of the train transform.

Two measurements at input sizes 224 and 64:
- "transform": the train transform alone on decoded images in memory, in this process;
- "loader, N workers": JPEG decode + train transform + batching through a gluon
  DataLoader over ImageFolderDataset, with 0 and 2 worker processes.

Source images are synthetic JPEGs (cvcore.data.synthetic.classification), 320x320
for the 224 input (about ImageNet's typical decode cost) and 64x64 for the 64 input.
Each number is the median of several timed runs after a warm-up.

    python benchmarks/data_classification.py [--runs 5] [--json benchmarks/results/data_classification.json]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import cvcore  # noqa: F401  (sets the thread defaults before MXNet is imported)

# isort: split
import numpy as np
from mxnet import gluon

from cvcore.data.folder import ImageFolderDataset
from cvcore.data.synthetic.classification import synthesize
from cvcore.deploy.benchmark import median_rate, write_report
from cvcore.tables import table
from cvcore.tasks.classification import ClassificationTask

SETTINGS = ({"input": 224, "source": 320, "per_class": 32}, {"input": 64, "source": 64, "per_class": 128})
WORKERS = (0, 2)
BATCH_SIZE = 32


def loader_rate(dataset: ImageFolderDataset, transform, workers: int, runs: int) -> float:
    """Median samples/s of whole epochs through a gluon DataLoader with ``workers`` worker processes."""
    loader = gluon.data.DataLoader(
        dataset.transform(transform), batch_size=BATCH_SIZE, shuffle=True, last_batch="discard", num_workers=workers
    )

    def epoch() -> None:
        for batch, _ in loader:
            batch.wait_to_read()

    return median_rate(epoch, len(loader) * BATCH_SIZE, runs)


def bench_setting(root: Path, input_size: int, runs: int) -> dict[str, float]:
    pipeline = SimpleNamespace(options={"input_shape": [1, 3, input_size, input_size]})
    transform = ClassificationTask().sample_transform(pipeline, train=True)
    dataset = ImageFolderDataset(root, "train")
    images = [dataset[i] for i in range(len(dataset))]
    rng = np.random.default_rng(0)

    def transform_only() -> None:
        for image, label in images:
            transform(image, label, rng=rng)

    rates = {"transform": median_rate(transform_only, len(images), runs)}
    for workers in WORKERS:
        rates[f"loader, {workers} workers"] = loader_rate(dataset, transform, workers, runs)
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", default=str(Path(__file__).parent / "results" / "data_classification.json"))
    args = parser.parse_args()

    results: dict[str, object] = {
        "batch_size": BATCH_SIZE,
        "runs": args.runs,
        "settings": [],
    }
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        synthesize(Path(scratch) / "synth-speed", classes=10, train_per_class=200, val_per_class=0, size=64)
        results["synthesize_10x200_at_64_seconds"] = round(time.perf_counter() - started, 2)
        rows = []
        for setting in SETTINGS:
            root = Path(scratch) / f"source{setting['source']}"
            synthesize(root, classes=10, train_per_class=setting["per_class"], val_per_class=0, size=setting["source"])
            rates = bench_setting(root, setting["input"], args.runs)
            results["settings"].append({**setting, "samples_per_second": {k: round(v, 1) for k, v in rates.items()}})
            source = f"{setting['source']}x{setting['source']}"
            rows += [(setting["input"], source, path, f"{rate:,.0f}") for path, rate in rates.items()]
    print(table(rows, ("input", "source JPEG", "path", "samples/s (median)")))
    print(f"synthesize 10 classes x 200 images at 64x64: {results['synthesize_10x200_at_64_seconds']} s")
    write_report(args.json, "data_classification", **results)


if __name__ == "__main__":
    main()
