"""What the GAN tasks share: options with defaults, one optimizer per role group, sample grids, predict on pictures."""
from __future__ import annotations

import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

import numpy as np
from mxnet import gluon

from cvcore import Task
from cvcore.options import check_keys

from .pictures import Result
from .samples import SampleGrid

if TYPE_CHECKING:
    from cvcore import Pipeline


class GANTask(Task):
    """A task whose network is a :class:`~cvcore_gan.gan_nets.GANNet`; subclasses say how to make and run it."""

    defaults: Mapping[str, Any] = {}
    """Each task option's value when the pipeline does not set it."""
    groups: Mapping[str, tuple[str, ...]] = {}
    """Optimizer group -> the network roles it trains (one Trainer each)."""

    def setting(self, pipeline: "Pipeline", name: str) -> Any:
        """The pipeline's value of task option ``name``, else its default."""
        value = pipeline.options.get(name)
        return self.defaults[name] if value is None else value

    def build(self, pipeline: "Pipeline", name: str, network: Callable[..., gluon.HybridBlock]) -> gluon.HybridBlock:
        """``network(**options)`` with the task option ``name``'s table; an unknown key is a ConfigError naming it."""
        options = dict(self.setting(pipeline, name))
        check_keys(options, [key for key in inspect.signature(network).parameters], f"{self.name} option {name!r} key")
        return network(**options)

    def parameter_groups(self, pipeline: "Pipeline") -> dict[str, Any]:
        groups = {}
        for group, roles in self.groups.items():
            params = gluon.ParameterDict()
            for role in roles:
                params.update(getattr(pipeline.net, role).collect_params())
            groups[group] = params
        return groups

    def training_callbacks(self, pipeline: "Pipeline", config: Any, val_data: Any) -> list[Any]:
        if config.out_dir is None or val_data is None:
            return []
        return [SampleGrid(pipeline, val_data, Path(config.out_dir) / "samples", self.sample_transform(pipeline, train=False))]

    def run_picture(self, pipeline: "Pipeline", image: Any, name: str, channel_order: str, options: Mapping[str, Any]) -> Result:
        """One predict input's result."""
        raise NotImplementedError

    def predict_pictures(self, pipeline: "Pipeline", inputs: Any, out: str | Path | None, channel_order: str, suffix: str,
                         **options: Any) -> list[np.ndarray]:
        """:meth:`run_picture` on each input (a path or an array); with ``out`` (a file for one input, else a folder)
        each is written (in a folder as ``<input name><suffix>.png``)."""
        images = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        results = []
        for index, image in enumerate(images):
            name = str(image) if not isinstance(image, np.ndarray) else f"image {index}"
            result = self.run_picture(pipeline, image, name, channel_order, options)
            results.append(result.pixels)
            if out is not None:
                stem = Path(str(image)).stem if not isinstance(image, np.ndarray) else f"image{index}"
                result.save(Path(out) if len(images) == 1 and Path(out).suffix else Path(out) / f"{stem}{suffix}.png")
        return results

    def format_prediction(self, prediction: np.ndarray) -> str:
        channels = 1 if prediction.ndim == 2 else prediction.shape[2]
        return f"{prediction.shape[1]}x{prediction.shape[0]} image, {channels} channel{'s' if channels > 1 else ''}"

    def prediction_json(self, prediction: np.ndarray) -> dict[str, Any]:
        return {"shape": list(prediction.shape)}
