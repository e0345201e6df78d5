"""The ONNX bridge: every operator of the table and every zoo model exports as valid ONNX that OpenVINO runs like MXNet."""
from __future__ import annotations

import json

import mxnet as mx
import numpy as np
import onnx
import pytest
from onnx_operators import CASES

import cvcore
from cvcore.errors import CvcoreError
from cvcore.pipeline import Pipeline
from cvcore.zoo import get_recipe
from cvcore_int8_vnni.exporting import OPSET, export_onnx
from cvcore_int8_vnni.openvino_backend import OpenVINONet, read_model

NOT_YET_ONNX = "detection"
"""The R-CNN detectors' graphs (ROIAlign, box_nms and shape arithmetic) export through MXNet's converters, but
OpenVINO does not compile them yet and their operators are not in the table (issue 17); their INT8 path is MXNet's."""
ONE_PER_STRUCTURE = ["resnet18_v1", "resnet50_v1d", "resnext50_32x4d", "se_resnext50_32x4d", "mobilenet0.25", "resnet50_v1d_0.11",
                     "simple_pose_resnet18_v1b"]


def randomized(net: mx.gluon.HybridBlock, seed: int = 0) -> mx.gluon.HybridBlock:
    """``net`` initialized, with norm statistics and shifts random too (a fresh BatchNorm is the identity)."""
    rng = np.random.default_rng(seed)
    net.initialize(mx.init.Xavier())
    for name, param in net.collect_params().items():
        if name.endswith("running_var"):
            param.set_data(mx.nd.array(rng.uniform(0.5, 1.5, param.shape)))
        elif name.endswith(("running_mean", "beta")):
            param.set_data(mx.nd.array(rng.normal(0, 0.2, param.shape)))
    return net


def assert_openvino_matches(net, x: mx.nd.NDArray, path) -> None:
    export_onnx(net, x, path)
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    assert [(o.domain, o.version) for o in model.opset_import] == [("", OPSET)]
    expected = net(x).asnumpy()
    got = OpenVINONet(read_model(path), precision="fp32")(x).asnumpy()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * max(1.0, float(np.abs(expected).max())))


def operators_of(net: mx.gluon.HybridBlock) -> set[str]:
    out = net(mx.sym.var("data"))
    graph = mx.sym.Group(list(out)) if isinstance(out, (list, tuple)) else out
    return {node["op"] for node in json.loads(graph.tojson())["nodes"] if node["op"] != "null"}


def exportable_zoo_models() -> list[str]:
    return [name for name in cvcore.list_models() if not get_recipe(name).deploy and get_recipe(name).task != NOT_YET_ONNX]


def test_every_operator_of_every_zoo_model_is_in_the_table():
    tabled = {case.op for case in CASES}
    found = {}
    for name in exportable_zoo_models():
        for op in operators_of(cvcore.get_model(name)) - tabled:
            found.setdefault(op, name)
    assert not found, f"operators of zoo models missing from tests/int8/onnx_operators.py: {found}"


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_operator_exports_and_runs_in_openvino_as_in_mxnet(case, tmp_path):
    net = randomized(case.build())
    net.hybridize()
    x = mx.nd.array(np.random.default_rng(1).normal(size=case.shape))
    assert case.op in operators_of(net)
    assert_openvino_matches(net, x, tmp_path / "op.onnx")


def zoo_input(pipeline: Pipeline) -> mx.nd.NDArray:
    shape = list(pipeline.example().shape)
    if pipeline.task_name == "classification" and not pipeline.config()["head"]["name"].startswith("vgg"):
        shape[2:] = [64, 64]
    shape[0] = 1
    pipeline.options["input_shape"] = shape
    return pipeline.example()


def check_zoo_model(name: str, tmp_path) -> None:
    mx.random.seed(0)
    pipeline = Pipeline.from_model(name)
    assert_openvino_matches(pipeline.net, zoo_input(pipeline), tmp_path / f"{name}.onnx")


@pytest.mark.parametrize("name", ONE_PER_STRUCTURE)
def test_zoo_model_exports_and_runs_in_openvino_as_in_mxnet(name, tmp_path):
    check_zoo_model(name, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in exportable_zoo_models() if n not in ONE_PER_STRUCTURE])
def test_every_other_zoo_model_exports_and_runs_in_openvino_as_in_mxnet(name, tmp_path):
    check_zoo_model(name, tmp_path)


class SortedHead(mx.gluon.HybridBlock):
    """A head using an operator that ONNX export does not know (``sort``)."""

    def __init__(self):
        super().__init__(prefix="sortedhead_")

    def hybrid_forward(self, F, x):
        return F.sort(F.mean(x, axis=(2, 3)), axis=1)


def test_an_operator_without_onnx_form_is_named_with_its_layer_and_the_paths_that_work(tmp_path):
    net = SortedHead()
    net.hybridize()
    x = mx.nd.random.uniform(shape=(2, 4, 8, 8))
    net(x)
    with pytest.raises(CvcoreError) as error:
        export_onnx(net, x, tmp_path / "sorted.onnx")
    message = str(error.value)
    assert "operator 'sort' (in sortedhead_sort0)" in message
    assert "int8 with backend='mxnet' do not need ONNX" in message and "oneDNN-fused" not in message
    assert not (tmp_path / "sorted.onnx").exists() and not list(tmp_path.iterdir())


def test_a_detector_exports_as_valid_onnx(tmp_path):
    detector = Pipeline("detection", backbone="resnet18_v1b", neck="fpn", loss="rcnn", input_shape=[1, 3, 64, 64], classes=2,
                        head={"name": "rcnn_fpn", "rpn_channels": 16, "rpn_post_nms": [32, 16]})
    x = detector.example(1)
    detector.net.hybridize()
    detector.net(x)
    export_onnx(detector.net, x, tmp_path / "detector.onnx")  # OpenVINO cannot compile it yet (docs/rcnn.md)
    model = onnx.load(str(tmp_path / "detector.onnx"))
    onnx.checker.check_model(model)
    assert {"RoiAlign", "NonMaxSuppression"} <= {node.op_type for node in model.graph.node}


def test_an_int8_mxnet_graph_is_named_as_such_with_the_way_out(tmp_path):
    from cvcore import testing

    mx.random.seed(0)
    pipeline = testing.small_pipeline().deploy("int8", calib_data=mx.nd.random.uniform(-1, 1, shape=(16, 3, 64, 64)))
    expected = r"operators .*'_sg_mkldnn_conv' \(in .* oneDNN's fused or INT8 operators .*pipeline\.trainable\(\)"
    with pytest.raises(CvcoreError, match=expected):
        pipeline.deploy("onnx", path=str(tmp_path / "int8.onnx"))
