"""Image classification: image folders in, class scores out."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import mxnet as mx
import numpy as np

from ..data.class_names import resolve as resolve_class_names
from ..data.image import image_pixels
from ..data.transforms import Compose, classification_eval_transform, classification_train_transform
from ..errors import ConfigError
from ..options import Option, check_keys
from ..task import Task, classes_head_option
from ..typecheck import check_values

if TYPE_CHECKING:
    from ..pipeline import Pipeline

# The [augment] table: ImageNet training's augmentation unless a key says otherwise.
AUGMENT_DEFAULTS: dict[str, Any] = {
    "scale": (0.08, 1.0),
    "ratio": (3 / 4, 4 / 3),
    "flip": 0.5,
    "brightness": 0.4,
    "contrast": 0.4,
    "saturation": 0.4,
    "lighting": 0.1,
    "crop_fraction": 0.875,
}
AUGMENT_KEYS = (*AUGMENT_DEFAULTS, "jitter")
AUGMENT_TYPES: dict[str, Any] = {key: float for key in AUGMENT_KEYS} | {
    "scale": Sequence[float], "ratio": Sequence[float], "flip": float | bool}


def augment_options(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``[augment]`` table over :data:`AUGMENT_DEFAULTS`, checked.

    ``jitter`` sets brightness, contrast and saturation at once (each may still
    be given on its own); ``flip = true`` / ``false`` means probability 0.5 / 0.
    """
    options = dict(options or {})
    check_keys(options, AUGMENT_KEYS, "[augment] option")
    check_values(options, AUGMENT_TYPES, "[augment] option")
    merged = dict(AUGMENT_DEFAULTS)
    if "jitter" in options:
        merged.update(dict.fromkeys(("brightness", "contrast", "saturation"), float(options.pop("jitter"))))
    merged.update(options)
    if isinstance(merged["flip"], bool):
        merged["flip"] = 0.5 if merged["flip"] else 0.0
    for key in ("scale", "ratio"):
        if len(merged[key]) != 2:
            raise ConfigError(f"[augment] {key} must be [low, high], got {merged[key]!r}.")
        merged[key] = (float(merged[key][0]), float(merged[key][1]))
    return merged


@dataclass(frozen=True)
class ClassificationSampleTransform:
    """``(image, label, rng=None) -> (float32 3xHxW input, float32 label)``; picklable for loader workers.

    All randomness comes from ``rng`` when it is given (reproducible, resumable
    training); without it, from a fresh ``numpy.random.default_rng()``.
    """

    image_transform: Compose

    def __call__(
        self, image: np.ndarray, label: int, rng: np.random.Generator | None = None
    ) -> tuple[np.ndarray, np.float32]:
        return self.image_transform(image, rng), np.float32(label)


class ClassificationTask(Task):
    name = "classification"
    default_head = "classifier"
    default_loss = "softmax_cross_entropy"
    default_metric = "accuracy"
    default_dataset = "image_folder"
    options = {
        "classes": Option("number of classes (the head's outputs)", int),
        "class_names": Option("the name of each class in label order (read from the training folders when absent), "
                              "or a shipped list such as 'imagenet1k'", list[str] | str),
        "augment": Option("the [augment] table of training augmentation (see AUGMENT_DEFAULTS)", Mapping[str, Any]),
    }

    def head_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        return classes_head_option(options, resolve_class_names(options.get("class_names")))

    def image_transform(self, pipeline: "Pipeline", train: bool) -> Compose:
        """RGB uint8 HxWx3 -> network input at the pipeline's ``input_shape``, with the ``[augment]`` options.

        Training: random resized crop (``scale``, ``ratio``), horizontal flip
        (probability ``flip``), colour jitter (``brightness``, ``contrast``,
        ``saturation``, or ``jitter`` for all three), PCA lighting noise
        (``lighting``), ImageNet normalization. Evaluation and prediction: resize
        to ``size / crop_fraction``, centre crop, normalize. A strength of 0 turns
        a step off; by default they are ImageNet training's (:data:`AUGMENT_DEFAULTS`).
        """
        size = self.input_size(pipeline)
        options = augment_options(pipeline.options.get("augment"))
        crop_fraction = options.pop("crop_fraction")
        if train:
            return classification_train_transform(size, **options)
        return classification_eval_transform(size, crop_fraction=crop_fraction)

    def sample_transform(self, pipeline: "Pipeline", train: bool) -> ClassificationSampleTransform:
        """``transform(image, label, rng=None)``: see :meth:`image_transform` and :class:`ClassificationSampleTransform`."""
        return ClassificationSampleTransform(self.image_transform(pipeline, train))

    def predict(self, pipeline: "Pipeline", inputs: Any, top_k: int = 5, channel_order: str = "rgb") -> list[list[tuple[str, float]]]:
        """Top-k ``(class name, probability)`` for each image, preprocessed as for evaluation.

        An image is a path or an array (:func:`~cvcore.data.image.as_rgb_image`: HWC
        ``channel_order`` ``"rgb"`` or ``"bgr"``, grey, RGBA, uint8/uint16/float 0..1).
        """
        if top_k < 1:
            raise ConfigError(f"top_k must be at least 1, got {top_k}.")
        images = inputs if isinstance(inputs, Sequence) and not isinstance(inputs, (str, np.ndarray)) else [inputs]
        preprocess = self.image_transform(pipeline, train=False)
        batch = np.stack([preprocess(image_pixels(x, channel_order, i)) for i, x in enumerate(images)])
        probs = mx.nd.softmax(pipeline.net(mx.nd.array(batch, ctx=pipeline.ctx[0]))).asnumpy()
        names = resolve_class_names(pipeline.options.get("class_names"))
        results = []
        for row in probs:
            best = np.argsort(-row)[:top_k]
            results.append([(names[i] if names else str(i), float(row[i])) for i in best])
        return results

    def format_prediction(self, prediction: list[tuple[str, float]]) -> str:
        return ", ".join(f"{name} {score:.3f}" for name, score in prediction)

    def prediction_json(self, prediction: list[tuple[str, float]]) -> dict[str, Any]:
        return {"classes": [{"name": name, "score": score} for name, score in prediction]}

    def demo(self, out_dir: str = "runs/classification-demo", **options: Any) -> int:
        """Synthetic shapes -> ResNet-18 from scratch -> val top-1 (its figures: README, benchmarks/demos.py)."""
        from . import classification_demo

        result = classification_demo.run(out_dir, **options)
        print(classification_demo.report(result))
        return 0

    def dataset(self, pipeline: "Pipeline", split: str):
        """The config's image folders; checks them against ``classes`` and the class names seen so far.

        The first split read records its folder names as ``class_names``; a later
        split whose folders differ would silently shift labels, so it is refused.
        A shipped list (``class_names = "imagenet1k"``) names labels by position, so
        folders of other names (ImageNet's ``n01440764``...) only need to be as many.
        """
        dataset = super().dataset(pipeline, split)
        names = list(getattr(dataset, "classes", []))
        if not names:
            return dataset
        expected = pipeline.options.get("classes")
        if expected is not None and int(expected) != len(names):
            raise ConfigError(
                f"The pipeline has classes = {expected} but the {split} data has {len(names)} class folders "
                f"({', '.join(names[:5])}{', ...' if len(names) > 5 else ''})."
            )
        known = pipeline.options.setdefault("class_names", names)
        if isinstance(known, str):
            return dataset  # a shipped list, as many names as classes (checked at assembly)
        if list(known) != names:
            missing, extra = sorted(set(known) - set(names)), sorted(set(names) - set(known))
            raise ConfigError(
                f"The {split} split's class folders differ from the pipeline's class_names: "
                f"missing {missing or 'none'}, unexpected {extra or 'none'} (labels are folder positions, so they must match)."
            )
        return dataset
