"""The pose task end to end: synthetic COCO data -> training -> OKS evaluation -> prediction and drawing."""
from __future__ import annotations

import json

import numpy as np
import pytest

from cvcore.data.image import read_image
from cvcore.errors import ConfigError, CvcoreError
from cvcore.pipeline import Pipeline
from cvcore_pose import task as pose_task
from cvcore_pose.geometry import box_to_center_size
from cvcore_pose.synthetic import synthesize

INPUT = [1, 3, 64, 64]


@pytest.fixture(scope="module")
def keypoints_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("keypoints")
    synthesize(root, train=6, val=3, size=(160, 120), progress=False)
    return root


def pose_pipeline(root, backbone: str = "resnet18_v1b", **options) -> Pipeline:
    return Pipeline(task="pose", backbone=backbone, input_shape=INPUT, data={"dataset": "coco_keypoints", "root": str(root)}, **options)


def test_a_pose_pipeline_trains_evaluates_and_writes_coco_results(keypoints_root, tmp_path):
    pipeline = pose_pipeline(keypoints_root)
    history = pipeline.fit(epochs=1, batch_size=4, optimizer="adam", lr=1e-3, progress=False, out_dir=str(tmp_path / "run"))
    assert np.isfinite(history["loss"]) and "val_AP" in history
    results_file = tmp_path / "results.json"
    metrics = pipeline.evaluate(results_file=results_file)
    assert set(metrics) >= {"AP", "AP50", "AP75", "APm", "APl", "AR"}
    results = json.loads(results_file.read_text())
    val = pipeline.task.dataset(pipeline, "val")
    assert len(results) == len(val)
    assert {r["image_id"] for r in results} <= set(val.coco.getImgIds())
    assert all(len(r["keypoints"]) == 51 and r["category_id"] == 1 for r in results)


def test_evaluation_on_detector_boxes_uses_the_detections_file(keypoints_root):
    detections = keypoints_root / "annotations" / "detections_val.json"
    pipeline = pose_pipeline(keypoints_root)
    pipeline.options["data"]["boxes"] = str(detections)
    val = pipeline.task.dataset(pipeline, "val")
    assert len(val) == len(json.loads(detections.read_text()))
    assert {r["ann_id"] for r in val.records} == {-1}
    train = pipeline.task.dataset(pipeline, "train")  # training always uses the annotated boxes
    assert all(r["ann_id"] >= 0 for r in train.records)
    assert set(pipeline.evaluate(val, flip_test=False)) >= {"AP", "AR"}


def test_flip_test_changes_the_heatmaps_it_averages(keypoints_root):
    pipeline = pose_pipeline(keypoints_root)
    x = pipeline.example(2)
    plain = pipeline.task.heatmaps(pipeline, x, flip_test=False)
    flipped = pipeline.task.heatmaps(pipeline, x, flip_test=True)
    assert plain.shape == flipped.shape == (2, 17, 16, 16)
    assert not np.allclose(plain, flipped)


def test_flip_shift_defaults_to_the_exact_value_and_is_validated(keypoints_root):
    pipeline = pose_pipeline(keypoints_root)
    x = pipeline.example(2)
    plain = pipeline.net(x).asnumpy()
    mirrored = pipeline.net(x[:, :, :, ::-1]).asnumpy()
    from cvcore_pose.decode import flip_average

    np.testing.assert_allclose(
        pipeline.task.heatmaps(pipeline, x, flip_test=True), flip_average(plain, mirrored, 0.75), rtol=1e-5, atol=1e-6
    )
    pipeline.options["flip_shift"] = 1
    np.testing.assert_allclose(
        pipeline.task.heatmaps(pipeline, x, flip_test=True), flip_average(plain, mirrored, 1.0), rtol=1e-5, atol=1e-6
    )
    for bad in (2, "one", True):
        pipeline.options["flip_shift"] = bad
        with pytest.raises(ConfigError, match="flip_shift"):
            pipeline.task.heatmaps(pipeline, x, flip_test=True)


def test_decode_and_target_options_reach_the_metric_and_the_transform(keypoints_root):
    pipeline = pose_pipeline(keypoints_root, decode="quarter", subpixel_targets=False)
    assert pipeline.task.sample_transform(pipeline, train=True).subpixel_targets is False
    default = pose_pipeline(keypoints_root)
    assert default.task.sample_transform(default, train=True).subpixel_targets is True
    assert default.task.refinement(default) == "dark"
    val = pipeline.task.dataset(pipeline, "val")
    quarter = pipeline.evaluate(val, flip_test=False)
    assert pipeline.metric.refine == "quarter"
    pipeline.options["decode"] = "dark"
    dark = pipeline.evaluate(val, flip_test=False)
    assert pipeline.metric.refine == "dark" and set(dark) == set(quarter)
    pipeline.options["decode"] = "darkk"
    with pytest.raises(ConfigError, match="decode option 'darkk'"):
        pipeline.evaluate(val, flip_test=False)


def test_predict_with_boxes_returns_image_coordinates_and_draws(keypoints_root, tmp_path):
    pipeline = pose_pipeline(keypoints_root)
    image = keypoints_root / "val" / "000000000001.jpg"
    out = tmp_path / "drawn.jpg"
    [result] = pipeline.predict(str(image), boxes=[[10, 20, 40, 80], [60, 10, 30, 60]], out=out)
    assert result["keypoints"].shape == (2, 17, 2) and result["scores"].shape == (2, 17)
    assert result["instance_scores"].shape == (2,)
    # keypoints land in the padded crop of their box (plus one heatmap cell of refinement), in image pixels
    for box, keypoints in zip([[10, 20, 40, 80], [60, 10, 30, 60]], result["keypoints"]):
        center, size = box_to_center_size(box, aspect_ratio=INPUT[3] / INPUT[2])
        cell = size / (np.array(INPUT[2:][::-1]) / 4)
        assert (np.abs(keypoints - center) <= size / 2 + cell).all(), (box, keypoints)
    assert read_image(out).shape == read_image(image).shape
    assert "2 people" in pipeline.task.format_prediction(result)


def test_predict_boxes_for_several_images_and_bad_boxes(keypoints_root):
    pipeline = pose_pipeline(keypoints_root)
    images = [str(keypoints_root / "val" / f"00000000000{i}.jpg") for i in (1, 2)]
    results = pipeline.predict(images, boxes=[[[0, 0, 30, 60]], []])
    assert [len(r["boxes"]) for r in results] == [1, 0]
    assert results[1]["keypoints"].shape == (0, 17, 2)
    with pytest.raises(ConfigError, match="positive width"):
        pipeline.predict(images[0], boxes=[[0, 0, 0, 10]])
    with pytest.raises(ConfigError, match="one such list per image"):
        pipeline.predict(images, boxes=[[[0, 0, 5, 5]]])


def test_predict_without_boxes_or_detector_names_what_to_install(keypoints_root, monkeypatch):
    pipeline = pose_pipeline(keypoints_root)
    monkeypatch.setattr("cvcore.zoo.list_models", lambda task=None, pattern=None: [])  # as without a detector plugin
    with pytest.raises(CvcoreError, match=r"cvcore\[rcnn\]"):
        pipeline.predict(str(keypoints_root / "val" / "000000000001.jpg"))


def test_predict_runs_a_detector_and_keeps_its_people(keypoints_root):
    class Detector:
        asked: list = []

        def predict(self, image, threshold):
            self.asked.append(threshold)
            return [[{"box": [5, 5, 40, 90], "score": 0.9, "label": "person"},
                     {"box": [50, 5, 40, 40], "score": 0.95, "label": "dog"},
                     {"box": [80, 5, 30, 60], "score": 0.1, "label": "person"}]]

    pipeline = pose_pipeline(keypoints_root)
    image = str(keypoints_root / "val" / "000000000001.jpg")
    [result] = pipeline.predict(image, detector=Detector())
    np.testing.assert_allclose(result["boxes"], [[5, 5, 40, 90]])
    np.testing.assert_allclose(result["box_scores"], [0.9])
    [result] = pipeline.predict(image, detector=Detector(), min_box_score=0.05)
    np.testing.assert_allclose(result["box_scores"], [0.9, 0.1])
    assert Detector.asked == [0.5, 0.05]  # the detector is asked for boxes down to min_box_score


def test_a_registered_detection_model_with_weights_here_is_found(monkeypatch, tmp_path):
    from cvcore.zoo import ModelRecipe, WeightsSpec

    opened = []
    monkeypatch.setenv("CVCORE_HOME", str(tmp_path))
    detectors = ["far_away", "person_detector"]
    monkeypatch.setattr("cvcore.zoo.list_models", lambda task=None, pattern=None: detectors if task == "detection" else [])
    monkeypatch.setattr("cvcore.zoo.get_recipe", lambda name: ModelRecipe("detection", weights=WeightsSpec(f"{name}.params")))
    monkeypatch.setattr(
        Pipeline, "open", classmethod(lambda cls, target, pretrained=False: opened.append((target, pretrained)) or "detector")
    )
    with pytest.raises(CvcoreError, match="far_away: far_away.params; person_detector: person_detector.params"):
        pose_task.open_detector()  # no weights here: nothing is downloaded for an implicit choice
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "person_detector.params").write_bytes(b"")
    assert pose_task.open_detector() == "detector"
    assert opened == [("person_detector", True)]


@pytest.mark.parametrize("backbone, channels", [("resnext50_32x4d", 2048), ("mobilenet0.25", 256)])
def test_the_pose_head_runs_on_other_backbones(keypoints_root, backbone, channels):
    pipeline = pose_pipeline(keypoints_root, backbone=backbone)
    assert pipeline.net.backbone.out_channels[-1] == channels
    assert pipeline.net(pipeline.example(1)).shape == (1, 17, 16, 16)


def test_the_pose_head_runs_on_the_third_party_fixture_backbone(tinynet, keypoints_root, tmp_path):
    pipeline = pose_pipeline(keypoints_root, backbone="tinynet")
    heatmaps = pipeline.net(pipeline.example(2))
    assert heatmaps.shape[:2] == (2, 17)
    history = pipeline.fit(epochs=1, batch_size=4, optimizer="adam", lr=1e-3, progress=False, out_dir=str(tmp_path / "run"))
    assert np.isfinite(history["loss"])


def test_augment_options_are_checked(keypoints_root):
    pipeline = pose_pipeline(keypoints_root, augment={"rotation_degrees": 30})
    with pytest.raises(ConfigError, match="rotation_degrees.*did you mean"):
        pipeline.task.sample_transform(pipeline, train=True)


def test_a_pose_pipeline_saves_and_reloads_with_the_same_outputs(keypoints_root, tmp_path):
    pipeline = pose_pipeline(keypoints_root)
    pipeline.save(tmp_path / "saved")
    again = Pipeline.load(tmp_path / "saved")
    x = pipeline.example(1)
    np.testing.assert_allclose(again.net(x).asnumpy(), pipeline.net(x).asnumpy(), rtol=1e-5, atol=1e-6)


def test_an_input_size_the_backbone_stride_does_not_divide_is_refused(keypoints_root):
    pipeline = pose_pipeline(keypoints_root)
    pipeline.options["input_shape"] = [1, 3, 64, 48]
    with pytest.raises(ConfigError, match="multiples of the backbone's stride 32"):
        pipeline.task.sample_transform(pipeline, train=True)


def test_data_splits_rename_the_tasks_splits_to_the_datasets_own(keypoints_root):
    pipeline = pose_pipeline(keypoints_root)
    pipeline.options["data"]["splits"] = {"val": "train"}
    val = pipeline.task.dataset(pipeline, "val")
    assert val.split == "train" and len(val) == len(pipeline.task.dataset(pipeline, "train"))
    pipeline.options["data"]["splits"] = ["train"]
    with pytest.raises(ConfigError, match="splits must be a table"):
        pipeline.task.dataset(pipeline, "val")


@pytest.mark.parametrize("input_shape, sigma", [([1, 3, 256, 192], 2.0), ([1, 3, 384, 288], 3.0), ([1, 3, 128, 96], 1.0),
                                                ([1, 3, 64, 64], 1.0)])
def test_the_target_gaussian_scales_with_the_heatmap_and_stays_a_pixel_wide(keypoints_root, input_shape, sigma):
    pipeline = pose_pipeline(keypoints_root)
    pipeline.options["input_shape"] = input_shape
    transform = pipeline.task.sample_transform(pipeline, train=True)
    assert transform.sigma == sigma


def test_an_explicit_sigma_is_used_and_a_bad_one_refused(keypoints_root):
    pipeline = pose_pipeline(keypoints_root, sigma=1.5)
    assert pipeline.task.sample_transform(pipeline, train=True).sigma == 1.5
    pipeline.options["sigma"] = 0
    with pytest.raises(ConfigError, match="sigma .* positive number; got 0"):
        pipeline.task.sample_transform(pipeline, train=True)
