"""cvcore_prune.prune: widths chosen to meet a budget, kept weights copied exactly, the pruned pipeline a pipeline like any other."""
from __future__ import annotations

import re

import mxnet as mx
import numpy as np
import pytest

from cvcore.deploy.profile import profile
from cvcore.errors import ConfigError, CvcoreError
from cvcore.nn.widths import ResNetWidths
from cvcore.pipeline import Pipeline
from cvcore_prune import plan_pruning, prune
from cvcore_prune.channels import channel_map
from cvcore_prune.importance import mean_abs_norm_outputs


def classifier(backbone: str = "resnet50_v1d", size: int = 64) -> Pipeline:
    mx.random.seed(0)
    return Pipeline("classification", backbone=backbone, classes=4, input_shape=[2, 3, size, size])


def pose(size: tuple[int, int] = (128, 96)) -> Pipeline:
    mx.random.seed(0)
    return Pipeline.from_model("simple_pose_resnet18_v1b", input_shape=[2, 3, *size])


def outputs(pipeline: Pipeline, x: mx.nd.NDArray) -> np.ndarray:
    return pipeline.net(x).asnumpy()


def randomize_norms(pipeline: Pipeline, seed: int = 0) -> None:
    """Distinct BatchNorm scales, shifts and statistics, as a trained network has (a fresh one has every gamma 1)."""
    rng = np.random.default_rng(seed)
    for name, param in pipeline.net._collect_params_with_prefix().items():
        if name.endswith(("gamma", "running_var")):
            param.set_data(mx.nd.array(rng.uniform(0.2, 1.5, param.shape)))
        elif name.endswith(("beta", "running_mean")):
            param.set_data(mx.nd.array(rng.normal(0, 0.2, param.shape)))


@pytest.mark.parametrize("make", [classifier, pose], ids=["resnet50_v1d classifier", "simple_pose_resnet18_v1b"])
def test_pruning_with_nothing_to_remove_gives_bit_identical_outputs(make):
    pipeline = make()
    randomize_norms(pipeline)
    x = pipeline.example()
    same = prune(pipeline, 1.0)
    assert same.net.backbone.widths == pipeline.net.backbone.widths
    assert np.array_equal(outputs(same, x), outputs(pipeline, x))


@pytest.mark.parametrize("make", [classifier, pose], ids=["resnet50_v1d classifier", "simple_pose_resnet18_v1b"])
def test_removing_dead_channels_computes_the_same_function(make):
    """Half of every group's channels silenced (scale and shift 0 in every layer that writes them) are the ones pruned,
    and the pruned network gives the original's outputs: every kept weight landed where it belongs, head included."""
    pipeline = make()
    randomize_norms(pipeline)
    channels = channel_map(pipeline.net)
    params = pipeline.net._collect_params_with_prefix()
    rng = np.random.default_rng(1)
    halves = {}
    for group in channels.groups:
        dead = rng.choice(group.size, group.size // 2, replace=False)
        halves[group] = group.size - len(dead)
        for _, norm in group.writers:
            for what in ("gamma", "beta"):
                values = params[f"{norm}.{what}"].data().asnumpy()
                values[dead] = 0
                params[f"{norm}.{what}"].set_data(mx.nd.array(values))
    half_widths = ResNetWidths(
        tuple(halves[g] for g in channels.stem),
        tuple(tuple((*(halves[g] for g in inner), halves[channels.residual[s]]) for inner in stage)
              for s, stage in enumerate(channels.units)))
    config = pipeline.config()
    config["backbone"] = {"name": config["backbone"]["name"], "widths": half_widths.to_config()}
    if channels.head:
        config["head"].update(pipeline.net.head.pruned_options([halves[g] for g in channels.head]))
    config.pop("model", None)
    target = profile(Pipeline(**config, initialize=False)).macs / profile(pipeline).macs
    x = pipeline.example()

    pruned = prune(pipeline, target)

    assert pruned.net.backbone.widths == half_widths
    assert pruned.config()["head"] == config["head"]
    np.testing.assert_allclose(outputs(pruned, x), outputs(pipeline, x), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("measure", ["macs", "params"])
@pytest.mark.parametrize("criterion", ["bn_scale", "l1", "activation"])
@pytest.mark.parametrize("target", [0.7, 0.4])
def test_the_pruned_network_costs_the_target_within_two_percent(measure, criterion, target):
    pipeline = classifier()
    randomize_norms(pipeline)
    calib = mx.nd.random.uniform(-1, 1, shape=(4, 3, 64, 64)) if criterion == "activation" else None
    pruned = prune(pipeline, target, measure=measure, criterion=criterion, calib_data=calib)
    before, after = profile(pipeline), profile(pruned)
    ratio = after.macs / before.macs if measure == "macs" else after.trainable_params / before.trainable_params
    assert target - 0.02 <= ratio <= target
    plan = pruned.net.backbone.widths
    assert all(width % 8 == 0 for width in plan.stem + sum((sum(stage, ()) for stage in plan.stages), ()))


def test_bn_scale_keeps_the_channels_with_the_largest_scales():
    pipeline = classifier("resnet18_v1b")
    randomize_norms(pipeline)
    plan = plan_pruning(pipeline, 0.5)
    gammas = pipeline.net._collect_params_with_prefix()
    for group in plan.channels.groups:
        if len(group.writers) != 1:
            continue  # a residual path is scored by the sum over its writers
        gamma = np.abs(gammas[f"{group.writers[0][1]}.gamma"].data().asnumpy())
        kept = plan.kept[group]
        assert gamma[kept].min() >= np.delete(gamma, kept).max(initial=0), group.name


def test_kept_weights_are_the_originals_at_the_kept_channels():
    pipeline = classifier("resnet18_v1b")
    randomize_norms(pipeline)
    plan = plan_pruning(pipeline, 0.5)
    pruned = prune(pipeline, 0.5)
    old, new = pipeline.net._collect_params_with_prefix(), pruned.net._collect_params_with_prefix()
    conv = "backbone.layer2.1.conv1"
    group_out = next(g for g in plan.channels.groups if (conv, "backbone.layer2.1.bn1") in g.writers)
    group_in = plan.channels.residual[1]
    expected = old[f"{conv}.weight"].data().asnumpy()[plan.kept[group_out]][:, plan.kept[group_in]]
    assert np.array_equal(new[f"{conv}.weight"].data().asnumpy(), expected)
    fc = old["head.fc.weight"].data().asnumpy()[:, plan.kept[plan.channels.residual[3]]]
    assert np.array_equal(new["head.fc.weight"].data().asnumpy(), fc)
    assert np.array_equal(new["head.fc.bias"].data().asnumpy(), old["head.fc.bias"].data().asnumpy())


def test_a_pose_head_is_pruned_with_its_backbone_and_loads_again(tmp_path):
    """The pose head declares its transposed convolutions: they lose channels too, so the backbone need not carry the
    whole cut, and the pruned widths are options of the head that save and load."""
    pipeline = pose()
    randomize_norms(pipeline)
    plan = plan_pruning(pipeline, 0.5)
    head_widths = [len(plan.kept[group]) for group in plan.channels.head]
    assert len(head_widths) == 3 and max(head_widths) < 256
    pruned = prune(pipeline, 0.5)
    assert pruned.config()["head"]["deconv_channels"] == head_widths
    shape = pipeline.example(1).shape
    assert profile(pruned.net.backbone, shape).macs / profile(pipeline.net.backbone, shape).macs > 0.3
    deconv = "head.deconv_layers.3.weight"  # (in, out, k, k): reads the first deconvolution's group, writes the second's
    old = pipeline.net._collect_params_with_prefix()[deconv].data().asnumpy()
    first, second = plan.channels.head[:2]
    assert np.array_equal(pruned.net._collect_params_with_prefix()[deconv].data().asnumpy(),
                          old[plan.kept[first]][:, plan.kept[second]])
    pruned.save(tmp_path / "pruned")
    x = pipeline.example()
    np.testing.assert_array_equal(outputs(Pipeline.load(tmp_path / "pruned"), x), outputs(pruned, x))


def test_a_head_declaring_a_layer_it_lacks_is_named():
    pipeline = pose()
    pipeline.net.head.prunable_channels = lambda: ([("deconv_layers.0", "deconv_layers.1"), ("nothing.0", "deconv_layers.4")],
                                                   "final_layer")
    with pytest.raises(CvcoreError, match="'nothing.0'/'deconv_layers.4', not a convolution"):
        prune(pipeline, 0.5)


def test_activation_importance_is_the_mean_absolute_norm_output_hybridized_or_not():
    pipeline = classifier("resnet18_v1b")
    randomize_norms(pipeline)
    backbone = pipeline.net.backbone
    x = mx.nd.random.uniform(-1, 1, shape=(3, 3, 64, 64))
    direct = backbone.bn1(backbone.conv1(x)).abs().mean(axis=(0, 2, 3)).asnumpy()
    eager = mean_abs_norm_outputs(backbone, ["bn1", "layer1.0.bn2"], [x])
    pipeline.net.hybridize()
    pipeline.net(x)
    hybrid = mean_abs_norm_outputs(backbone, ["bn1", "layer1.0.bn2"], [x[:2], x[2:]])
    np.testing.assert_allclose(eager["bn1"], direct, rtol=1e-5)
    for norm in eager:
        np.testing.assert_allclose(hybrid[norm], eager[norm], rtol=1e-5)


def test_a_pruned_pipeline_trains_saves_and_loads(stripes_root, tmp_path):
    pipeline = Pipeline("classification", backbone="resnet18_v1b", classes=4, input_shape=[1, 3, 32, 32],
                        data={"dataset": "image_folder", "root": str(stripes_root)})
    pruned = prune(pipeline, 0.5)
    history = pruned.fit(epochs=1, batch_size=16, progress=False, out_dir=str(tmp_path / "run"))
    assert np.isfinite(history["loss"])
    pruned.save(tmp_path / "pruned")
    loaded = Pipeline.load(tmp_path / "pruned")
    x = mx.nd.random.uniform(-1, 1, shape=(2, 3, 32, 32))
    assert loaded.net.backbone.widths == pruned.net.backbone.widths
    assert np.array_equal(outputs(loaded, x), outputs(pruned, x))
    assert "pruned to" in loaded.config()["backbone"]["widths"]["source"]


def test_the_prune_transform_is_the_function_and_chains_with_int8_and_export(tmp_path):
    pipeline = classifier("resnet18_v1b")
    randomize_norms(pipeline)
    x = pipeline.example()
    expected = outputs(prune(pipeline, 0.5), x)
    only = pipeline.copy().deploy("prune", target=0.5)
    np.testing.assert_allclose(outputs(only, x), expected, rtol=1e-5, atol=1e-6)
    chained = pipeline.copy().deploy("prune", target=0.5).deploy("hybridize").deploy("int8", calib_data=x).deploy("export")
    assert [step["transform"] for step in chained.deployed] == ["prune", "hybridize", "int8", "export"]
    chained.save(tmp_path / "deployed")
    loaded = Pipeline.load(tmp_path / "deployed")
    np.testing.assert_array_equal(outputs(loaded, x), outputs(chained, x))
    trainable = loaded.trainable()  # the unpruned network the chain started from
    assert trainable.net.backbone.widths == pipeline.net.backbone.widths
    np.testing.assert_array_equal(outputs(trainable, x), outputs(pipeline, x))


def test_the_prune_transform_keeps_the_transform_contract():
    from cvcore import testing

    testing.check_transform("prune", target=1.0)


@pytest.mark.parametrize("options, message", [
    ({"target": 0}, "fraction in (0, 1]"),
    ({"target": 1.5}, "fraction in (0, 1]"),
    ({"target": "half"}, "fraction in (0, 1]"),
    ({"measure": "flops"}, "is not one of macs, params"),
    ({"criterion": "gamma"}, "criteria are bn_scale, l1, activation"),
    ({"criterion": "activation"}, "pass calib_data"),
    ({"multiple": 0}, "positive integer"),
    ({"target": 0.001}, "No pruning reaches 0.001"),
])
def test_bad_arguments_are_named(options, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        prune(classifier("resnet18_v1b", 32), **options)


def test_a_backbone_outside_the_v1b_family_is_refused_by_name():
    with pytest.raises(CvcoreError, match="ResNet v1b-family backbone .* a ResNetV1"):
        prune(classifier("resnet18_v1", 32), 0.5)


def test_a_deployed_network_is_refused():
    pipeline = classifier("resnet18_v1b", 32).deploy("export")
    with pytest.raises(CvcoreError, match="prune before other deploy transforms"):
        prune(pipeline, 0.5)
