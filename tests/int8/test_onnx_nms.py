"""The ONNX form of box_nms keeps MXNet's meaning: per-class suppression, topk before suppression, best first, -1 padding."""
from __future__ import annotations

import mxnet as mx
import numpy as np
import pytest

from cvcore_int8_vnni.exporting import check_onnx, export_onnx
from cvcore_int8_vnni.openvino_backend import OpenVINONet, read_model

OPTIONS = {
    "per class": {"id_index": 0, "force_suppress": False},
    "across classes": {"id_index": 0, "force_suppress": True},
    "no class column": {},
    "per class, topk first": {"id_index": 0, "force_suppress": False, "topk": 12},
    "centre boxes": {"id_index": 0, "force_suppress": False, "in_format": "center", "out_format": "center"},
}


class BoxNMS(mx.gluon.HybridBlock):
    def __init__(self, **options):
        super().__init__()
        self.options = options

    def hybrid_forward(self, F, x):
        return F.contrib.box_nms(x, overlap_thresh=0.45, valid_thresh=0.05, coord_start=2, score_index=1, **self.options)


def rows(seed: int, batch: int = 2, count: int = 40) -> mx.nd.NDArray:
    """Rows (label, score, box) with heavy overlap within and across 3 classes; a quarter are empty (label -1, score 0)."""
    rng = np.random.default_rng(seed)
    corner = rng.uniform(0, 60, (batch, count, 2))
    size = rng.uniform(20, 40, (batch, count, 2))
    labels = rng.integers(0, 3, (batch, count, 1)).astype(np.float32)
    scores = rng.uniform(0.01, 1, (batch, count, 1))
    empty = rng.uniform(size=(batch, count, 1)) < 0.25
    labels[empty], scores[empty] = -1, 0
    return mx.nd.array(np.concatenate([labels, scores, corner, corner + size], axis=-1))


@pytest.mark.parametrize("seed, options", list(enumerate(OPTIONS.values())), ids=list(OPTIONS))
def test_openvino_runs_the_exported_suppression_like_mxnet(seed, options, tmp_path):
    net = BoxNMS(**options)
    x = rows(seed)
    net.hybridize()
    ours = net(x).asnumpy()
    assert (ours[..., 0] >= 0).sum() > 10 and (ours == -1).all(axis=-1).sum() > 10  # kept and suppressed rows both
    export_onnx(net, x, tmp_path / "nms.onnx")
    check_onnx(tmp_path / "nms.onnx", net, x, rtol=1e-5, atol=1e-5)  # raises on any difference


def test_boxes_of_another_class_are_not_suppressed(tmp_path):
    # three boxes that overlap almost entirely: the second is another class's, the third a duplicate of the first
    x = mx.nd.array([[[0, 0.9, 10, 10, 50, 50], [1, 0.8, 11, 11, 51, 51], [0, 0.7, 12, 12, 52, 52]]])
    net = BoxNMS(id_index=0, force_suppress=False)
    net.hybridize()
    assert net(x).asnumpy()[0, :, 0].tolist() == [0, 1, -1]
    export_onnx(net, x, tmp_path / "nms.onnx")  # MXNet's own converter keeps only the first
    assert OpenVINONet(read_model(tmp_path / "nms.onnx"), precision="fp32")(x).asnumpy()[0, :, 0].tolist() == [0, 1, -1]
