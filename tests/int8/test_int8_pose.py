"""INT8 on a trained pose pipeline: the decoded keypoints stay where FP32 puts them, on both backends."""
from __future__ import annotations

import numpy as np
import pytest

from cvcore.pipeline import Pipeline

pose = pytest.importorskip("cvcore_pose")


@pytest.fixture(scope="module")
def trained_pose(tmp_path_factory):
    from cvcore_pose.synthetic import synthesize

    root = tmp_path_factory.mktemp("keypoints")
    synthesize(root, train=60, val=10, size=(160, 120), progress=False)
    pipeline = Pipeline.from_model("simple_pose_resnet18_v1b", input_shape=[1, 3, 64, 64],
                                   data={"dataset": "coco_keypoints", "root": str(root)})
    pipeline.fit(epochs=3, batch_size=16, optimizer="adam", lr=2e-3, progress=False, out_dir=str(tmp_path_factory.mktemp("run")))
    return pipeline


def keypoints(pipeline, dataset):
    from cvcore.train.data import make_loader
    from cvcore_pose.decode import decode_heatmaps

    found = []
    for batch in make_loader(pipeline, dataset, train=False, batch_size=16):
        inputs, _ = pipeline.task.split_batch(batch)
        found.append(decode_heatmaps(pipeline.task.heatmaps(pipeline, inputs, flip_test=False))[0])
    return np.concatenate(found)


@pytest.mark.parametrize("backend", ["mxnet", "openvino"])
def test_int8_pose_keypoints_agree_with_fp32(trained_pose, backend):
    val = trained_pose.task.dataset(trained_pose, "val")
    train = trained_pose.task.dataset(trained_pose, "train")
    quantized = trained_pose.copy().deploy("int8", backend=backend, calib_data=train, num_calib_examples=64)
    fp32_points, int8_points = keypoints(trained_pose, val), keypoints(quantized, val)
    distance = np.linalg.norm(fp32_points - int8_points, axis=-1)  # heatmap pixels (16 x 16 maps)
    assert np.median(distance) < 0.5 and (distance < 1.5).mean() > 0.9, (np.median(distance), (distance < 1.5).mean())
    fp32_ap, int8_ap = trained_pose.evaluate(val)["AP"], quantized.evaluate(val)["AP"]
    assert abs(fp32_ap - int8_ap) < 0.1, (fp32_ap, int8_ap)


def test_openvino_after_mxnet_has_run_a_pose_network_does_not_hang(tmp_path):
    """MXNet 1.9.1 deadlocks in Deconvolution if OpenVINO is first imported after MXNet's OpenMP workers exist;
    the plugin imports OpenVINO when the registry is built, before any pipeline runs."""
    import subprocess
    import sys

    script = (
        "from cvcore.pipeline import Pipeline\n"
        "from cvcore_pose.synthetic import synthesize\n"
        "synthesize('data', train=6, val=2, size=(160, 120), progress=False)\n"
        "p = Pipeline.from_model('simple_pose_resnet18_v1b', input_shape=[1, 3, 64, 64],\n"
        "                        data={'dataset': 'coco_keypoints', 'root': 'data'})\n"
        "p.deploy('int8', backend='openvino', calib_data=p.task.dataset(p, 'train'), num_calib_examples=8)\n"
        "print('deployed', p.net(p.example(2)).shape)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "deployed (2, 17, 16, 16)" in done.stdout
