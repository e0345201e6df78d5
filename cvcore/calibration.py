"""Calibration data for deploy transforms: whatever the user gives -> batches of network inputs."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

import mxnet as mx
import numpy as np
from mxnet import gluon

from .errors import ConfigError

if TYPE_CHECKING:
    from .pipeline import Pipeline

CALIB_BATCH_SIZE = 16
CALIB_SEED = 0


class CalibrationBatches:
    """A re-iterable sequence of input batches (``NDArray`` N x C x H x W) for calibration.

    From a dataset, samples are visited in a seeded random order (a folder of
    images sorted by class would otherwise calibrate on one class) through the
    task's evaluation transform, lazily: a transform that needs 256 examples
    decodes only those. Every batch has ``batch_size`` samples, except when the
    whole source is smaller than one batch.
    """

    def __init__(self, pipeline: "Pipeline", source: Any, batch_size: int = CALIB_BATCH_SIZE):
        self.pipeline, self.source, self.batch_size = pipeline, source, int(batch_size)

    def __iter__(self) -> Iterator[mx.nd.NDArray]:
        if isinstance(self.source, gluon.data.Dataset) and not isinstance(self.source, gluon.data.DataLoader):
            yield from self._from_dataset(self.source)
        elif isinstance(self.source, (np.ndarray, mx.nd.NDArray)):
            yield from self._from_array(self.source)
        else:
            for batch in self.source:
                yield self._inputs(batch)

    def _from_dataset(self, dataset: gluon.data.Dataset) -> Iterator[mx.nd.NDArray]:
        from .train.data import make_loader

        if len(dataset) == 0:
            raise ConfigError("The calibration dataset is empty.")
        order = np.random.default_rng(CALIB_SEED).permutation(len(dataset))
        batch_size = min(self.batch_size, len(dataset))
        usable = len(order) - len(order) % batch_size
        loader = make_loader(self.pipeline, _Reordered(dataset, order[:usable]), train=False, batch_size=batch_size)
        for batch in loader:
            yield self._inputs(batch)

    def _from_array(self, array: Any) -> Iterator[mx.nd.NDArray]:
        array = array if isinstance(array, mx.nd.NDArray) else mx.nd.array(array)
        if array.ndim != 4:
            raise ConfigError(f"Calibration inputs given as an array must be N x C x H x W, got shape {array.shape}.")
        for start in range(0, array.shape[0], self.batch_size):
            yield array[start:start + self.batch_size]

    def _inputs(self, batch: Any) -> mx.nd.NDArray:
        if isinstance(batch, (tuple, list)):
            batch = self.pipeline.task.split_batch(batch)[0]
        if not isinstance(batch, mx.nd.NDArray):
            batch = mx.nd.array(np.asarray(batch))
        return batch.as_in_context(mx.cpu())


class _Reordered(gluon.data.Dataset):
    """``dataset`` seen through ``indices`` (a subset in a chosen order)."""

    def __init__(self, dataset: gluon.data.Dataset, indices: np.ndarray):
        self.dataset, self.indices = dataset, indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[int(self.indices[index])]


def calibration_batches(pipeline: "Pipeline", source: Any, batch_size: int = CALIB_BATCH_SIZE) -> CalibrationBatches | None:
    """``source`` (a dataset, an N x C x H x W array or an iterable of batches) as :class:`CalibrationBatches`."""
    if source is None or isinstance(source, CalibrationBatches):
        return source
    if isinstance(source, (str, bytes)):
        raise ConfigError(
            f"calib_data {source!r} is a string; pass a dataset (pipeline.task.dataset(pipeline, 'val')), "
            "an array of inputs or batches. On the command line, --calib DIR reads a dataset root."
        )
    return CalibrationBatches(pipeline, source, batch_size)
