"""The OpenVINO path: ONNX export checked by running it, the OpenVINO runtime (FP32/BF16), INT8 by NNCF, save/load."""
from __future__ import annotations

import tempfile

import mxnet as mx
import numpy as np
import pytest

import cvcore.plugins
from cvcore.errors import CvcoreError, UnknownComponentError
from cvcore.pipeline import Pipeline
from cvcore_int8_vnni import exporting
from cvcore_int8_vnni.openvino_backend import OpenVINONet, _sigaltstack, read_model


def fake_quantize_count(net: OpenVINONet) -> int:
    return sum(op.get_type_name() == "FakeQuantize" for op in net.model.get_ordered_ops())


def test_openvino_int8_keeps_the_trained_classifiers_predictions(classifier, trained_classifier, val_set, top1):
    classifier.deploy("int8", backend="openvino", calib_data=trained_classifier.task.dataset(trained_classifier, "train"),
                      num_calib_examples=64)
    assert isinstance(classifier.net, OpenVINONet) and fake_quantize_count(classifier.net) >= 20
    assert (top1(classifier, val_set) == top1(trained_classifier, val_set)).mean() >= 0.95
    assert set(classifier.evaluate(val_set)) == {"top1", "top5"}


def test_the_output_layer_stays_fp32_unless_asked(classifier):
    x = classifier.example(8)
    kept = classifier.copy().deploy("int8", backend="openvino", calib_data=x, example=x)
    everything = classifier.copy().deploy("int8", backend="openvino", calib_data=x, example=x, exclude_output=False)
    assert fake_quantize_count(kept.net) < fake_quantize_count(everything.net)


def test_entropy_is_refused_for_openvino_with_the_alternative(classifier):
    with pytest.raises(CvcoreError, match="preset='performance' or 'mixed'"):
        classifier.deploy("int8", backend="openvino", calib_mode="entropy", calib_data=classifier.example(4))


def test_onnx_export_runs_and_equals_mxnet(classifier, tmp_path):
    x = classifier.example(3)
    expected = classifier.net(x).asnumpy()
    net_before = classifier.net
    classifier.deploy("onnx", example=x, path=str(tmp_path / "model.onnx"))
    assert classifier.net is net_before and (tmp_path / "model.onnx").is_file()
    onnx_net = OpenVINONet(read_model(tmp_path / "model.onnx"))
    np.testing.assert_allclose(onnx_net(x).asnumpy(), expected, rtol=1e-4, atol=1e-4)
    assert onnx_net(classifier.example(5)).shape == (5, 4)  # the batch is dynamic
    assert exporting.check_onnx(tmp_path / "model.onnx", classifier.net, x) < 1e-4



def test_onnx_check_without_a_path_leaves_no_files_behind(classifier, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    net_before = classifier.net
    classifier.deploy("onnx", example=classifier.example(2))
    assert classifier.net is net_before and not list(tmp_path.iterdir())

def test_openvino_fp32_equals_mxnet(classifier):
    x = classifier.example(4)
    expected = classifier.net(x).asnumpy()
    fp32 = classifier.copy().deploy("openvino", example=x)
    np.testing.assert_allclose(fp32.net(x).asnumpy(), expected, rtol=1e-4, atol=1e-4)


def cpu_capabilities() -> list[str]:
    import openvino

    return list(openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"))


def test_openvino_bf16_keeps_the_outputs(classifier):
    if "BF16" not in cpu_capabilities():
        pytest.skip("this CPU has no BF16 in OpenVINO (neither AVX-512 BF16 nor AMX): nothing to run in BF16 here")
    x = classifier.example(4)
    expected = classifier.net(x).asnumpy()
    bf16 = classifier.copy().deploy("openvino", example=x, precision="bf16")
    assert np.corrcoef(bf16.net(x).asnumpy().ravel(), expected.ravel())[0, 1] > 0.99


def test_bf16_on_a_cpu_without_it_is_refused_by_name(classifier, monkeypatch):
    import openvino

    real = openvino.Core.get_property
    monkeypatch.setattr(openvino.Core, "get_property",
                        lambda self, device, name: ["FP32", "INT8"] if name == "OPTIMIZATION_CAPABILITIES" else real(self, device, name))
    with pytest.raises(CvcoreError, match="no bf16 support"):
        classifier.copy().deploy("openvino", example=classifier.example(2), precision="bf16")


def test_openvino_leaves_the_callers_signal_stack_alone(classifier):
    """OpenVINO swaps the calling thread's sigaltstack and frees the old one; the next Ctrl-C then crashed the process."""
    before = _sigaltstack(None)
    x = classifier.example(2)
    classifier.deploy("int8", backend="openvino", calib_data=x, example=x)
    classifier.net(x)
    after = _sigaltstack(None)
    assert (after.ss_sp, after.ss_size, after.ss_flags) == (before.ss_sp, before.ss_size, before.ss_flags)


def test_saved_openvino_int8_pipeline_reloads_without_calibration_data(classifier, tmp_path):
    x = classifier.example(8)
    classifier.deploy("int8", backend="openvino", calib_data=x, example=x)
    expected = classifier.net(x).asnumpy()
    classifier.save(tmp_path / "ov")
    assert (tmp_path / "ov" / "deployed.xml").is_file() and (tmp_path / "ov" / "deployed.bin").is_file()
    reloaded = Pipeline.load(tmp_path / "ov")
    assert isinstance(reloaded.net, OpenVINONet)
    np.testing.assert_allclose(reloaded.net(x).asnumpy(), expected, rtol=1e-5, atol=1e-5)
    assert reloaded.copy().net(x).shape == (8, 4)


@pytest.mark.usefixtures("cvcore_plugin_state")
def test_reloading_without_the_plugin_names_it(classifier, tmp_path):
    x = classifier.example(4)
    classifier.deploy("openvino", example=x)
    classifier.save(tmp_path / "ov")
    cvcore.plugins.reset_host(disabled={"int8-vnni"})
    with pytest.raises(UnknownComponentError, match="int8"):
        Pipeline.load(tmp_path / "ov")


def test_a_missing_extra_names_what_to_install(monkeypatch, classifier):
    real = exporting.importlib.import_module

    def without_nncf(name, *args):
        if name == "nncf":
            raise ImportError("No module named 'nncf'")
        return real(name, *args)

    monkeypatch.setattr(exporting.importlib, "import_module", without_nncf)
    with pytest.raises(exporting.MissingExtraError, match=r"cvcore-int8-vnni\[openvino\]"):
        classifier.deploy("int8", backend="openvino", calib_data=classifier.example(4))


def test_the_third_party_backbone_runs_on_openvino_in_int8(tinynet):
    pipeline = Pipeline(task="classification", backbone="tinynet", classes=3, input_shape=[1, 3, 32, 32])
    x = mx.nd.random.uniform(0, 1, (16, 3, 32, 32))
    expected = pipeline.net(x).asnumpy()
    pipeline.deploy("int8", backend="openvino", calib_data=x, example=x)
    assert fake_quantize_count(pipeline.net) > 0
    assert np.corrcoef(expected.ravel(), pipeline.net(x).asnumpy().ravel())[0, 1] > 0.98
