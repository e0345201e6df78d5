"""The face of cvcore-int8-vnni: every part it adds to cvcore is registered here.

INT8 deployment for Intel CPUs with VNNI: the ``int8`` deploy transform
(MXNet oneDNN or OpenVINO + NNCF backends), ``onnx`` export and the
``openvino`` runtime (FP32/BF16), and INT8 zoo entries
(``resnet50_v1_int8``, ``mobilenet1.0_int8``, ``simple_pose_*_int8``).
"""
import cvcore

CVCORE_API = 1  # the cvcore hook API this plugin is written for (cvcore.hookspecs.API_VERSION)


@cvcore.hookimpl
def cvcore_deploy_transforms():
    from . import transforms

    return [
        cvcore.Component("int8", transforms.int8,
                         "INT8 with calibration: MXNet oneDNN (naive/entropy) or OpenVINO + NNCF; excluded layers stay FP32.",
                         {"load_graph": transforms.load_graph}),
        cvcore.Component("onnx", transforms.onnx,
                         "Export to an ONNX file (dynamic batch), checked against MXNet by running it on OpenVINO.",
                         {"load_graph": transforms.load_graph}),
        cvcore.Component("openvino", transforms.openvino,
                         "Run on the OpenVINO runtime in FP32 or BF16 (exported through ONNX).",
                         {"load_graph": transforms.load_graph}),
    ]


@cvcore.hookimpl
def cvcore_models():
    from .zoo import int8_models

    return int8_models()
