"""Every deploy transform of the INT8 plugin, alone and chained, survives save -> load -> save -> load and stays usable."""
from __future__ import annotations

import pytest
from round_trips import check_chain

from cvcore.pipeline import Pipeline

MXNET_INT8 = ("int8", {"num_calib_examples": 16})
OPENVINO_INT8 = ("int8", {"backend": "openvino", "num_calib_examples": 16})
CHAINS = {
    "onnx": ([("onnx", {})], ("openvino", {})),
    "openvino": ([("openvino", {})], ("export", {})),
    "int8-mxnet": ([MXNET_INT8], ("export", {})),
    "int8-openvino": ([OPENVINO_INT8], ("hybridize", {})),
    "hybridize-int8-mxnet": ([("hybridize", {}), MXNET_INT8], ("export", {})),
    "export-int8-openvino": ([("export", {}), OPENVINO_INT8], ("export", {})),
    "onnx-openvino": ([("onnx", {}), ("openvino", {})], ("hybridize", {})),
    "export-onnx": ([("export", {}), ("onnx", {})], OPENVINO_INT8),
    "hybridize-export-int8-mxnet": ([("hybridize", {}), ("export", {}), MXNET_INT8], ("hybridize", {})),
}


@pytest.mark.parametrize("name", CHAINS)
def test_int8_plugin_transforms_survive_every_round_trip(name, tinynet, color_folders, tmp_path, capsys):
    chain, further = CHAINS[name]
    pipeline = Pipeline("classification", backbone="tinynet", classes=3, input_shape=[1, 3, 32, 32],
                        data={"dataset": "image_folder", "root": str(color_folders)})
    calib = pipeline.task.dataset(pipeline, "train")
    check_chain(pipeline, chain, further, color_folders, tmp_path, capsys, calib=calib)
