"""The pose plugin's parts keep their kinds' contracts, checked with cvcore.testing as any plugin author would."""
from __future__ import annotations

import mxnet as mx
import pytest

from cvcore import testing
from cvcore.pipeline import Pipeline
from cvcore.train.data import make_loader
from cvcore_pose.synthetic import synthesize

SMALL_SET = {"train": 4, "val": 3, "size": (96, 72), "progress": False}


def test_simple_pose_head_adapts_to_any_backbone():
    testing.check_head("simple_pose", num_joints=5, deconv_channels=16)


def test_heatmap_mse_gives_per_instance_losses():
    heatmaps, targets = mx.nd.random.uniform(shape=(3, 5, 16, 12)), mx.nd.random.uniform(shape=(3, 5, 16, 12))
    weights = mx.nd.array([[1, 1, 0, 1, 1], [1, 0, 0, 0, 0], [1, 1, 1, 1, 1]]).reshape((3, 5, 1))
    values = testing.check_loss("heatmap_mse", heatmaps, [targets, weights])
    assert values.shape == (3,)


def test_coco_keypoints_dataset_reads_what_its_synthesizer_writes():
    assert testing.check_dataset("coco_keypoints", split="val", synthesize=SMALL_SET) >= 3


@pytest.fixture(scope="module")
def keypoints_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("keypoints")
    synthesize(root, **SMALL_SET)
    return root


def test_coco_keypoints_metric_reports_ap_by_name_and_resets(keypoints_root):
    pipeline = Pipeline(task="pose", backbone="resnet18_v1b", input_shape=[1, 3, 64, 64],
                        data={"dataset": "coco_keypoints", "root": str(keypoints_root)})
    val = pipeline.task.dataset(pipeline, "val")
    inputs, (meta,) = pipeline.task.split_batch(next(iter(make_loader(pipeline, val, train=False, batch_size=64))))
    values = testing.check_metric("coco_keypoints", (meta,), pipeline.net(inputs), prepare=lambda metric: metric.bind(val.coco))
    assert {"AP", "AP50", "AR"} <= set(values)
