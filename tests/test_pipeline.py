"""Assembling pipelines from names, objects and TOML; saving, loading and deploying them."""
from __future__ import annotations

import tempfile

import mxnet as mx
import numpy as np
import pytest
from mxnet.gluon import nn

import cvcore
from cvcore.pipeline import Pipeline

SMALL = {"input_shape": [2, 3, 32, 32]}


def outputs(pipeline, x):
    return pipeline.net(x).asnumpy()


def test_pipeline_from_names_runs_forward(tinynet):
    pipeline = Pipeline("classification", backbone="tinynet", classes=4, **SMALL)
    assert pipeline.net(pipeline.example()).shape == (2, 4)
    names = set(pipeline.net._collect_params_with_prefix())
    assert "head.fc.weight" in names and "backbone.stages.0.0.weight" in names


def test_task_defaults_fill_head_loss_and_metric(tinynet):
    pipeline = Pipeline(backbone="tinynet", classes=2, **SMALL)
    assert pipeline.task_name == "classification"
    assert type(pipeline.loss).__name__ == "SoftmaxCrossEntropy"
    assert pipeline.config()["head"] == {"name": "classifier"}
    assert pipeline.config()["metric"] == {"name": "accuracy"}


def test_part_options_reach_the_part(tinynet):
    pipeline = Pipeline(backbone={"name": "tinynet", "width": 2}, head={"name": "classifier", "dropout": 0.5}, classes=3, **SMALL)
    assert pipeline.net.backbone.out_channels == (128,)
    assert pipeline.net.head.fc.weight.shape == (3, 128)


def test_pipeline_from_objects(tinynet):
    from cvcore.nn.heads import ClassifierHead
    from cvcore_tinynet.backbone import TinyNet

    backbone = TinyNet()
    head = ClassifierHead(in_channels=backbone.out_channels, classes=5)
    pipeline = Pipeline(backbone=backbone, head=head, **SMALL)
    assert pipeline.net.backbone is backbone
    assert pipeline.net(pipeline.example()).shape == (2, 5)


def test_object_parts_cannot_be_named_in_a_config(tinynet, tmp_path):
    from cvcore_tinynet.backbone import TinyNet

    pipeline = Pipeline(backbone=TinyNet(), classes=2, **SMALL)
    with pytest.raises(cvcore.CvcoreError, match="register it through a plugin"):
        pipeline.save(tmp_path / "p")


def test_head_needing_more_features_than_the_backbone_gives_fails_at_assembly(tinynet):
    class FourScaleHead(nn.HybridBlock):
        in_features = 4

        def __init__(self):
            super().__init__()
            self.out = nn.Dense(2)

        def hybrid_forward(self, F, *features):
            return self.out(features[-1])

    with pytest.raises(
        cvcore.IncompatiblePartsError, match=r"needs 4 feature maps but the backbone 'tinynet' gives 1 \(it can give at most 3"
    ):
        Pipeline(backbone="tinynet", head=FourScaleHead(), **SMALL)


def test_head_asking_for_several_features_gets_them_from_the_backbone(tinynet):
    class TwoScaleHead(nn.HybridBlock):
        in_features = 2

        def __init__(self):
            super().__init__()
            self.pool = nn.GlobalAvgPool2D()
            self.out = nn.Dense(2)

        def hybrid_forward(self, F, c2, c3):
            return self.out(F.concat(F.flatten(self.pool(c2)), F.flatten(self.pool(c3)), dim=1))

    pipeline = Pipeline(backbone="tinynet", head=TwoScaleHead(), **SMALL)
    assert pipeline.net.backbone.out_features == ("c2", "c3")
    assert pipeline.net(pipeline.example()).shape == (2, 2)


def test_backbone_without_out_channels_is_rejected(tinynet):
    class Bare(nn.HybridBlock):
        def hybrid_forward(self, F, x):
            return x

    with pytest.raises(cvcore.IncompatiblePartsError, match="does not expose out_channels and strides"):
        Pipeline(backbone=Bare(), **SMALL)


def test_unknown_part_name_suggests_the_closest(tinynet):
    with pytest.raises(cvcore.UnknownComponentError, match="Did you mean 'tinynet'"):
        Pipeline(backbone="tinynt", **SMALL)


def test_from_config_reads_toml_and_overrides_merge(tinynet, tmp_path):
    config = tmp_path / "cls.toml"
    config.write_text(
        'task = "classification"\nclasses = 3\ninput_shape = [2, 3, 32, 32]\n'
        '[backbone]\nname = "tinynet"\nwidth = 2\n'
        '[train]\nepochs = 2\nlr = 0.05\n'
    )
    pipeline = Pipeline.from_config(config, backbone={"width": 1}, train={"lr": 0.1})
    assert pipeline.net.backbone.out_channels == (64,)
    assert pipeline.options["train"] == {"epochs": 2, "lr": 0.1}
    assert pipeline.net(pipeline.example()).shape == (2, 3)


@pytest.mark.parametrize(
    "text, message",
    [
        ("task = \n", "is not valid TOML"),
        ('classes = 3\n[backbone]\nname = "tinynet"\n', "no top-level task"),
        ('task = "classification"\n[backbone]\nwidth = 2\n', "needs name ="),
    ],
)
def test_malformed_configs_name_the_problem(tinynet, tmp_path, text, message):
    config = tmp_path / "bad.toml"
    config.write_text(text)
    with pytest.raises(cvcore.ConfigError, match=message):
        Pipeline.from_config(config)


def test_save_and_load_round_trip(tinynet, tmp_path):
    pipeline = Pipeline(backbone="tinynet", classes=3, class_names=["a", "b", "c"], **SMALL)
    x = pipeline.example()
    pipeline.save(tmp_path / "saved")
    assert sorted(p.name for p in (tmp_path / "saved").iterdir()) == ["model.params", "pipeline.toml"]
    loaded = Pipeline.load(tmp_path / "saved")
    np.testing.assert_allclose(outputs(loaded, x), outputs(pipeline, x), rtol=1e-6, atol=1e-6)
    assert loaded.options["class_names"] == ["a", "b", "c"]
    assert loaded.config() == pipeline.config()


@pytest.mark.parametrize("transform", ["hybridize", "export"])
def test_deploy_keeps_outputs_and_saves_the_graph(tinynet, tmp_path, transform):
    pipeline = Pipeline(backbone="tinynet", classes=3, **SMALL)
    x = pipeline.example()
    before = outputs(pipeline, x)
    pipeline.deploy(transform)
    np.testing.assert_allclose(outputs(pipeline, x), before, rtol=1e-4, atol=1e-5)
    pipeline.save(tmp_path / "deployed")
    assert (tmp_path / "deployed" / "deployed-symbol.json").is_file()
    loaded = Pipeline.load(tmp_path / "deployed")
    assert isinstance(loaded.net, mx.gluon.SymbolBlock)
    assert loaded.deployed[0]["transform"] == transform
    np.testing.assert_allclose(outputs(loaded, x), before, rtol=1e-4, atol=1e-5)
    with pytest.raises(cvcore.CvcoreError, match="deployed graph"):
        loaded.fit([])


def test_export_transform_writes_files_symbolblock_imports(tinynet, tmp_path):
    pipeline = Pipeline(backbone="tinynet", classes=3, **SMALL)
    x = pipeline.example()
    before = outputs(pipeline, x)
    pipeline.deploy("export", path=str(tmp_path / "net"))
    block = mx.gluon.SymbolBlock.imports(str(tmp_path / "net-symbol.json"), ["data"], str(tmp_path / "net-0000.params"))
    np.testing.assert_allclose(block(x).asnumpy(), before, rtol=1e-4, atol=1e-5)


def test_hybridize_fuses_conv_bn_relu_with_onednn(tinynet):
    pipeline = Pipeline(backbone="tinynet", classes=3, **SMALL).deploy("hybridize")
    symbol = pipeline.net._cached_graph[1]
    ops = {node["op"] for node in __import__("json").loads(symbol.tojson())["nodes"]}
    assert "_sg_mkldnn_conv" in ops and "BatchNorm" not in ops


def test_fit_learns_image_folders_and_evaluate_reports_top1(tinynet, color_folders):
    pipeline = Pipeline(
        backbone="tinynet", classes=3, input_shape=[1, 3, 32, 32],
        data={"dataset": "image_folder", "root": str(color_folders)},
    )
    mx.random.seed(0)
    before = pipeline.evaluate()["top1"]
    history = pipeline.fit(epochs=8, batch_size=12, lr=0.1, progress=False)
    after = pipeline.evaluate()
    assert history["epoch"] == 8 and np.isfinite(history["loss"])
    assert after["top1"] >= 0.9 > before or after["top1"] == 1.0
    assert pipeline.options["class_names"] == ["blue", "green", "red"]


def test_dataset_classes_must_match_the_pipeline(tinynet, color_folders):
    pipeline = Pipeline(backbone="tinynet", classes=5, data={"dataset": "image_folder", "root": str(color_folders)})
    with pytest.raises(cvcore.ConfigError, match="classes = 5 but the train data has 3 class folders"):
        pipeline.fit(epochs=1)


def test_predict_returns_named_top_k(tinynet, color_folders):
    pipeline = Pipeline(backbone="tinynet", classes=3, class_names=["blue", "green", "red"], input_shape=[1, 3, 32, 32])
    image = next((color_folders / "val" / "red").iterdir())
    (top,) = pipeline.predict(str(image), top_k=2)
    assert len(top) == 2 and {name for name, _ in top} <= {"blue", "green", "red"}
    assert abs(sum(score for _, score in pipeline.predict(str(image), top_k=3)[0]) - 1.0) < 1e-5


def test_corrupt_image_names_the_file(tinynet, color_folders):
    bad = color_folders / "val" / "red" / "broken.png"
    bad.write_bytes(b"not an image at all")
    pipeline = Pipeline(backbone="tinynet", classes=3, input_shape=[1, 3, 32, 32])
    with pytest.raises(cvcore.CvcoreError, match="broken.png could not be decoded"):
        pipeline.predict(str(bad))


def test_a_split_with_other_class_folders_is_refused(tinynet, color_folders):
    import shutil

    shutil.rmtree(color_folders / "val" / "green")
    (color_folders / "val" / "yellow").mkdir()
    shutil.copy(next((color_folders / "train" / "red").iterdir()), color_folders / "val" / "yellow" / "a.png")
    pipeline = Pipeline(backbone="tinynet", classes=3, data={"dataset": "image_folder", "root": str(color_folders)})
    pipeline.task.dataset(pipeline, "train")
    with pytest.raises(cvcore.ConfigError, match=r"missing \['green'\], unexpected \['yellow'\]"):
        pipeline.task.dataset(pipeline, "val")


def test_hybridize_falls_back_when_onednn_fusion_breaks_the_graph():
    # MXNet 1.9's conv+sum fusion mis-wires SE-ResNeXt (GluonCV's own network fails the same way)
    pipeline = Pipeline.from_model("se_resnext50_32x4d", input_shape=[2, 3, 64, 64])
    x = pipeline.example()
    before = outputs(pipeline, x)
    with pytest.warns(RuntimeWarning, match="oneDNN fusion failed for this network"):
        pipeline.deploy("hybridize")
    np.testing.assert_allclose(outputs(pipeline, x), before, rtol=1e-5, atol=1e-6)


def test_copy_gives_the_same_outputs_and_independent_weights(tinynet):
    pipeline = Pipeline(backbone="tinynet", classes=3, input_shape=[1, 3, 32, 32])
    twin = pipeline.copy()
    x = pipeline.example(2)
    np.testing.assert_allclose(twin.net(x).asnumpy(), pipeline.net(x).asnumpy(), rtol=1e-6, atol=1e-6)
    weight = twin.net.head.fc.weight
    weight.set_data(weight.data() + 1)
    assert not np.allclose(twin.net(x).asnumpy(), pipeline.net(x).asnumpy())


def test_export_without_a_path_leaves_no_files_behind(tinynet, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    pipeline = Pipeline(backbone="tinynet", classes=3, **SMALL)
    x = pipeline.example()
    before = outputs(pipeline, x)
    pipeline.deploy("export")
    assert isinstance(pipeline.net, mx.gluon.SymbolBlock) and not list(tmp_path.iterdir())
    np.testing.assert_allclose(outputs(pipeline, x), before, rtol=1e-4, atol=1e-5)  # the weights live on in memory
