"""The detection task on COCO-format data: input scaling and padding, evaluation through COCOeval, prediction and drawing.

The network here is an answer key: for each input it returns the ground truth
of the image it was made from, in input pixels. Everything around it is the
task's own path, so perfect answers must come back as perfect COCO scores in
the images' own pixels, and any slip in scaling, padding or label mapping shows.
"""
from __future__ import annotations

import json

import mxnet as mx
import numpy as np
import pytest
from detection_answers import AnswerKey

from cvcore.data.coco_detection import COCODetection
from cvcore.data.image import read_image
from cvcore.errors import ConfigError, CvcoreError
from cvcore.pipeline import Pipeline
from cvcore.tasks.detection import DetectionSampleTransform
from cvcore.tasks.detection_outputs import batch_outputs, paste_masks

INPUT = [1, 3, 96, 128]  # wider than high: the shapes' square images are padded at the right


@pytest.fixture(scope="module")
def shapes_root(tmp_path_factory):
    from cvcore.data.synthetic.shapes import synthesize

    root = tmp_path_factory.mktemp("shapes")
    synthesize(root, train=6, val=6, size=(160, 160), progress=False)
    return root


def answered_pipeline(root, shift: float = 0.0, **options) -> Pipeline:
    pipeline = Pipeline(task="detection", backbone="resnet18_v1b", head="classifier", input_shape=INPUT,
                        data={"dataset": "coco_detection", "root": str(root)}, metric={"name": "coco_detection",
                                                                                      "iou_type": ["bbox", "segm"]}, **options)
    val = COCODetection(root, "val", masks=True)
    pipeline.net = AnswerKey(val, pipeline.task.sample_transform(pipeline, train=False), shift)
    return pipeline


def test_perfect_answers_score_perfectly_in_the_images_own_pixels(shapes_root, tmp_path):
    pipeline = answered_pipeline(shapes_root)
    results_file = tmp_path / "detections.json"
    metrics = pipeline.evaluate(pipeline.task.dataset(pipeline, "val"), results_file=results_file)
    assert metrics["AP"] == pytest.approx(1.0) and metrics["AP75"] == pytest.approx(1.0)
    assert metrics["segm_AP"] > 0.85  # masks went through 28x28 and back
    results = json.loads(results_file.read_text())
    category_ids = {c["id"] for c in json.loads((shapes_root / "annotations" / "instances_val.json").read_text())["categories"]}
    assert results and {r["category_id"] for r in results} <= category_ids
    assert all(len(r["bbox"]) == 4 and "counts" in r["segmentation"] for r in results)


def test_answers_off_by_a_few_input_pixels_lose_the_strict_thresholds(shapes_root):
    pipeline = answered_pipeline(shapes_root, shift=6.0)
    metrics = pipeline.evaluate(pipeline.task.dataset(pipeline, "val"))
    assert metrics["AP"] < 0.9 and metrics["AP75"] < metrics["AP50"]


def test_predict_gives_boxes_labels_and_masks_in_image_pixels_and_draws(shapes_root, tmp_path):
    pipeline = answered_pipeline(shapes_root)
    pipeline.task.dataset(pipeline, "val")  # as training or evaluation would: the category names become class_names
    val = COCODetection(shapes_root, "val", masks=True)
    index = next(i for i in range(len(val)) if (~val[i][1]["crowd"]).any())
    image, target = val[index]
    path = val.image_dir / val.coco.loadImgs(val.image_ids[index])[0]["file_name"]
    out = tmp_path / "drawn.jpg"
    [found] = pipeline.predict(str(path), threshold=0.5, out=out)
    solid = ~target["crowd"]
    assert len(found) == solid.sum()
    expected = sorted(zip(target["boxes"][solid].tolist(), target["labels"][solid].tolist()))
    got = sorted(([d["box"][0], d["box"][1], d["box"][0] + d["box"][2], d["box"][1] + d["box"][3]], d["label_id"]) for d in found)
    for (box, label), (predicted, predicted_label) in zip(expected, got):
        assert predicted_label == label and np.abs(np.array(box) - predicted).max() <= 1.0
    assert {d["label"] for d in found} <= set(val.classes)
    assert all(d["mask"].shape == image.shape[:2] for d in found)
    assert read_image(out).shape == image.shape
    line = pipeline.task.format_prediction(found)
    assert line.startswith(f"{len(found)} object")
    encoded = json.loads(json.dumps(pipeline.task.prediction_json(found)))
    assert len(encoded["detections"]) == len(found) and "counts" in encoded["detections"][0]["mask"]


def test_training_samples_drop_crowds_pad_and_flip_with_their_masks(shapes_root):
    train = COCODetection(shapes_root, "train", masks=True)
    index = max(range(len(train)), key=lambda i: len(train[i][1]["labels"]))
    image, target = train[index]
    transform = DetectionSampleTransform((96, 128), train=True, flip=1.0, max_objects=40, masks=True)
    x, boxes, labels, meta, masks = transform(image, target, rng=np.random.default_rng(0))
    solid = int((~target["crowd"]).sum())
    assert x.shape == (3, 96, 128) and boxes.shape == (40, 4) and masks.shape == (40, 96, 128)
    assert (labels[:solid] >= 0).all() and (labels[solid:] == -1).all()
    resized_w = int(meta[4])
    assert (x[:, :, resized_w:] == 0).all()  # padding on the right
    for box, mask in zip(boxes[:solid], masks[:solid]):
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        if rows.size:  # a flipped mask still lies in its flipped box
            assert cols[0] >= box[0] - 1.5 and cols[-1] + 1 <= box[2] + 1.5 and rows[0] >= box[1] - 1.5


def test_more_objects_than_max_objects_is_named(shapes_root):
    train = COCODetection(shapes_root, "train")
    image, target = max((train[i] for i in range(len(train))), key=lambda sample: len(sample[1]["labels"]))
    transform = DetectionSampleTransform((96, 128), train=False, max_objects=1)
    with pytest.raises(ConfigError, match=f"Image {target['image_id']} has .* objects, more than max_objects = 1"):
        transform(image, target)


def test_a_network_with_other_outputs_is_refused_with_the_contract():
    with pytest.raises(CvcoreError, match=r"returns \(labels \(N, K\), scores"):
        batch_outputs(mx.nd.zeros((2, 10)))


def test_masks_are_pasted_over_their_boxes():
    mask = np.zeros((28, 28), np.float32)
    mask[:, :14] = 1  # the left half of the box
    [pasted] = paste_masks(mask[None], np.array([[10, 20, 30, 40]], np.float32), (50, 60))
    assert pasted[20:40, 10:20].all() and not pasted[20:40, 21:30].any() and pasted.sum() == 200


def test_the_data_must_agree_with_the_pipelines_classes(shapes_root):
    pipeline = Pipeline(task="detection", backbone="resnet18_v1b", head="classifier", classes=3, input_shape=INPUT,
                        data={"dataset": "coco_detection", "root": str(shapes_root)})
    with pytest.raises(ConfigError, match="classes = 3 but the val data has"):
        pipeline.task.dataset(pipeline, "val")


def test_voc_data_scores_through_the_voc_metrics_in_the_images_own_pixels(tmp_path):
    from cvcore.data.synthetic.voc import CLASSES, synthesize

    root = synthesize(tmp_path / "voc", train=2, val=6, size=(160, 120), progress=False)
    pipeline = Pipeline(task="detection", backbone="resnet18_v1b", head="classifier", input_shape=INPUT, metric="voc07_map",
                        data={"dataset": "voc_detection", "root": str(root), "classes": list(CLASSES)})
    val = pipeline.task.dataset(pipeline, "val")
    assert pipeline.options["class_names"] == list(CLASSES)
    pipeline.net = AnswerKey(val, pipeline.task.sample_transform(pipeline, train=False))
    metrics = pipeline.evaluate(val)
    assert metrics["mAP"] == pytest.approx(1.0) and set(metrics) == {"mAP", *(f"AP_{name}" for name in CLASSES)}
    pipeline.net = AnswerKey(val, pipeline.task.sample_transform(pipeline, train=False), shift=6.0)
    assert pipeline.evaluate(val)["mAP"] < 0.9
