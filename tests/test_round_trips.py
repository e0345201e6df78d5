"""Deployed pipelines survive save -> load -> save -> load, and every verb works on what was loaded."""
from __future__ import annotations

import mxnet as mx
import pytest
from round_trips import check_chain

from cvcore.errors import CvcoreError
from cvcore.graphs import write_graph
from cvcore.pipeline import Pipeline
from cvcore.weights import WeightsError

CHAINS = {
    "hybridize": ([("hybridize", {})], ("export", {})),
    "export": ([("export", {})], ("hybridize", {})),
    "hybridize-export": ([("hybridize", {}), ("export", {})], ("hybridize", {})),
    "export-hybridize": ([("export", {}), ("hybridize", {})], ("export", {})),
}


def tiny_pipeline(root) -> Pipeline:
    return Pipeline("classification", backbone="tinynet", classes=3, input_shape=[1, 3, 32, 32],
                    data={"dataset": "image_folder", "root": str(root)})


@pytest.mark.parametrize("name", CHAINS)
def test_core_transforms_survive_every_round_trip(name, tinynet, color_folders, tmp_path, capsys):
    chain, further = CHAINS[name]
    check_chain(tiny_pipeline(color_folders), chain, further, color_folders, tmp_path, capsys)


def test_the_reported_resnet_case_keeps_its_weights(tmp_path):
    pipeline = Pipeline("classification", backbone="resnet18_v1b", classes=3, input_shape=[1, 3, 32, 32])
    pipeline.deploy("hybridize")
    pipeline.save(tmp_path / "a")
    Pipeline.load(tmp_path / "a").save(tmp_path / "b")
    for name in ("model.params", "deployed-0000.params"):
        assert (tmp_path / "b" / name).stat().st_size == (tmp_path / "a" / name).stat().st_size
    x = pipeline.example(2)
    assert (Pipeline.load(tmp_path / "b").net(x) - pipeline.net(x)).abs().max().asscalar() < 1e-5


def test_a_loaded_deployed_pipeline_gives_back_its_trainable_form(tinynet, color_folders, tmp_path):
    pipeline = tiny_pipeline(color_folders).deploy("export")
    pipeline.save(tmp_path / "run")
    trainable = Pipeline.load(tmp_path / "run").trainable()
    assert not trainable.deployed
    x = pipeline.example(2)
    assert (trainable.net(x) - pipeline.net(x)).abs().max().asscalar() < 1e-5
    (tmp_path / "run" / "model.params").unlink()
    graph_only = Pipeline.load(tmp_path / "run")
    with pytest.raises(CvcoreError, match="without its trainable parameters"):
        graph_only.trainable()
    graph_only.save(tmp_path / "again")  # still saves what it has
    assert not (tmp_path / "again" / "model.params").exists()


def test_a_graph_missing_parameters_is_refused_with_the_file_named(tinynet, tmp_path):
    pipeline = Pipeline("classification", backbone="tinynet", classes=3, input_shape=[1, 3, 32, 32])
    pipeline.deploy("export")
    lost = next(iter(pipeline.net.collect_params().values()))
    lost._data = None  # what an exporter that loses parameters produces
    with pytest.raises(WeightsError, match=r"deployed-0000\.params.*does not hold"):
        pipeline.save(tmp_path / "run")
    assert not (tmp_path / "run" / "pipeline.toml").exists()  # nothing half-written


def test_a_truncated_graph_file_is_named_when_loading(tinynet, tmp_path):
    pipeline = Pipeline("classification", backbone="tinynet", classes=3, input_shape=[1, 3, 32, 32])
    pipeline.deploy("hybridize").save(tmp_path / "run")
    mx.nd.save(str(tmp_path / "run" / "deployed-0000.params"), {})
    with pytest.raises(WeightsError, match=r"deployed-0000\.params lacks .* would not load back"):
        Pipeline.load(tmp_path / "run")


def test_mxnets_own_export_of_a_fresh_symbolblock_writes_no_weights_but_ours_does(tinynet, tmp_path):
    """The cause of the lost weights: MXNet exports parameters from a cached operator built at the first forward pass."""
    pipeline = Pipeline("classification", backbone="tinynet", classes=3, input_shape=[1, 3, 32, 32]).deploy("export")
    pipeline.save(tmp_path / "run")
    fresh = Pipeline.load(tmp_path / "run").net
    fresh.export(str(tmp_path / "mxnet"))
    assert len(mx.nd.load(str(tmp_path / "mxnet-0000.params"))) == 0
    write_graph(fresh, tmp_path / "ours")
    assert len(mx.nd.load(str(tmp_path / "ours-0000.params"))) == len(list(fresh.collect_params().keys()))
