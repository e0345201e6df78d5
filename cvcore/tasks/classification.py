"""Image classification: image folders in, class scores out."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Sequence

import cv2
import mxnet as mx
import numpy as np

from ..data.image import read_image
from ..task import Task

if TYPE_CHECKING:
    from ..pipeline import Pipeline

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32) * 255
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32) * 255


def to_input(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """RGB uint8 HxWx3 -> normalized float32 3xHxW at the network's input size."""
    if image.shape[:2] != (height, width):
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)
    return ((image.astype(np.float32) - MEAN) / STD).transpose(2, 0, 1)


class ClassificationTask(Task):
    name = "classification"
    default_head = "classifier"
    default_loss = "softmax_cross_entropy"
    default_metric = "accuracy"

    def head_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        return {"classes": int(options["classes"])} if "classes" in options else {}

    def input_size(self, pipeline: "Pipeline") -> tuple[int, int]:
        shape = pipeline.options.get("input_shape") or self.default_input_shape
        return int(shape[-2]), int(shape[-1])

    def sample_transform(self, pipeline: "Pipeline", train: bool):
        height, width = self.input_size(pipeline)
        rng = np.random.default_rng()

        def transform(image: np.ndarray, label: int):
            if train and rng.random() < 0.5:
                image = image[:, ::-1]
            return to_input(image, height, width), np.float32(label)

        return transform

    def predict(self, pipeline: "Pipeline", inputs: Any, top_k: int = 5) -> list[list[tuple[str, float]]]:
        """Top-k ``(class name, probability)`` for each image (path or RGB array)."""
        images = inputs if isinstance(inputs, Sequence) and not isinstance(inputs, (str, np.ndarray)) else [inputs]
        height, width = self.input_size(pipeline)
        batch = np.stack([to_input(read_image(x) if not isinstance(x, np.ndarray) else x, height, width) for x in images])
        probs = mx.nd.softmax(pipeline.net(mx.nd.array(batch, ctx=pipeline.ctx[0]))).asnumpy()
        names = pipeline.options.get("class_names")
        results = []
        for row in probs:
            best = np.argsort(-row)[:top_k]
            results.append([(names[i] if names else str(i), float(row[i])) for i in best])
        return results

    def format_prediction(self, prediction: list[tuple[str, float]]) -> str:
        return ", ".join(f"{name} {score:.3f}" for name, score in prediction)

    def dataset(self, pipeline: "Pipeline", split: str):
        """The config's image folders; records their class names and checks ``classes``."""
        dataset = super().dataset(pipeline, split)
        names = list(getattr(dataset, "classes", []))
        if names:
            expected = pipeline.options.get("classes")
            if expected is not None and int(expected) != len(names):
                from ..errors import ConfigError

                raise ConfigError(
                    f"The pipeline has classes = {expected} but the {split} data has {len(names)} class folders "
                    f"({', '.join(names[:5])}{', ...' if len(names) > 5 else ''})."
                )
            pipeline.options.setdefault("class_names", names)
        return dataset
