"""Shared fixtures. Keep each one small and clearly named: several test files use them."""
from __future__ import annotations

import importlib
import os
import shutil
import sys
import textwrap
from pathlib import Path
from typing import Callable, Mapping

import pytest

import cvcore.plugins
import cvcore.train

PLUGIN_SWITCHES = ("CVCORE_PLUGINS_AUTOLOAD", "CVCORE_PLUGINS_DISABLE", "CVCORE_PLUGINS_TRACE")

LONG_RUNNING_TIMEOUT_S = 3600
"""pytest-timeout's limit for ``slow`` and ``install`` tests (minutes of training, wheels of MXNet); the rest get pyproject's."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if (item.get_closest_marker("slow") or item.get_closest_marker("install")) and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(LONG_RUNNING_TIMEOUT_S))


@pytest.fixture
def cvcore_plugin_state():
    """A fresh global plugin host, with no CVCORE_PLUGINS_* switch set, for the test.

    Afterwards the switches are restored and the global host is rebuilt with
    ``cvcore.plugins.reset_host()``. Request it *before* ``monkeypatch`` and
    ``fake_plugin_distribution`` (e.g. with ``pytest.mark.usefixtures``) so
    that it is torn down after them, once the test's sys.path and environment
    changes are undone.
    """
    with pytest.MonkeyPatch.context() as mp:
        for switch in PLUGIN_SWITCHES:
            mp.delenv(switch, raising=False)
        cvcore.plugins.reset_host()
        yield
    cvcore.plugins.reset_host()


@pytest.fixture
def fake_plugin_distribution(tmp_path: Path) -> Callable[..., Path]:
    """Factory that "installs" a plugin distribution into a directory on sys.path.

    ``fake_plugin_distribution(name, version, entry_points, modules)`` writes
    ``<name>-<version>.dist-info/`` (METADATA and an ``entry_points.txt`` for
    the ``cvcore.plugins`` group) next to the modules, given as
    ``{"dotted.module": "source"}`` (parent packages are created empty when not
    given), and returns the directory. Everything is removed from sys.path and
    sys.modules afterwards.
    """
    site = tmp_path / "site-packages"
    site.mkdir()
    top_level: set[str] = set()

    def make(name: str, version: str, entry_points: Mapping[str, str], modules: Mapping[str, str]) -> Path:
        dist_info = site / f"{name.replace('-', '_')}-{version}.dist-info"
        dist_info.mkdir()
        (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        lines = [f"[{cvcore.plugins.ENTRY_POINT_GROUP}]"] + [f"{ep} = {target}" for ep, target in entry_points.items()]
        (dist_info / "entry_points.txt").write_text("\n".join(lines) + "\n")
        for dotted, source in modules.items():
            parts = dotted.split(".")
            top_level.add(parts[0])
            for depth in range(1, len(parts)):
                package = site.joinpath(*parts[:depth])
                package.mkdir(exist_ok=True)
                (package / "__init__.py").touch()
            site.joinpath(*parts[:-1], parts[-1] + ".py").write_text(textwrap.dedent(source))
        importlib.invalidate_caches()
        return site

    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(site))
        yield make
        for module in list(sys.modules):
            if module.split(".")[0] in top_level:
                del sys.modules[module]
    importlib.invalidate_caches()


# --- The fixture backbone and image folders (test_pipeline.py, test_cli.py) -----------
TINYNET_SOURCE = Path(__file__).parent / "fixtures" / "cvcore-tinynet"
COLORS = {"blue": (40, 60, 220), "green": (40, 200, 60), "red": (220, 50, 40)}


@pytest.fixture
def tinynet(monkeypatch, tmp_path_factory):
    """The third-party fixture plugin (backbone ``tinynet``) registered by hand as plugin "tinynet".

    Only its package is put on sys.path (a copy), so build metadata left in the
    fixture's folder can never make it an installed distribution as well.
    """
    site = tmp_path_factory.mktemp("tinynet-src")
    shutil.copytree(TINYNET_SOURCE / "cvcore_tinynet", site / "cvcore_tinynet")
    monkeypatch.syspath_prepend(str(site))
    for module in [m for m in sys.modules if m.startswith("cvcore_tinynet")]:
        monkeypatch.delitem(sys.modules, module)
    import cvcore_tinynet.plugin

    cvcore.plugins.reset_host(disabled={"tinynet"})  # in case cvcore-tinynet is also installed
    cvcore.plugins.register_plugin(cvcore_tinynet.plugin, name="tinynet")
    yield cvcore_tinynet.plugin
    cvcore.plugins.reset_host()


@pytest.fixture
def color_folders(tmp_path: Path) -> Path:
    """An image-folder dataset root/<split>/<class>/<image>.png of noisy solid colours (blue, green, red)."""
    import numpy as np

    from cvcore.data.image import write_image

    rng = np.random.default_rng(0)
    root = tmp_path / "colors"
    for split, count in (("train", 12), ("val", 4)):
        for name, rgb in COLORS.items():
            for index in range(count):
                noise = rng.integers(-30, 31, size=(32, 32, 3))
                image = np.clip(np.array(rgb) + noise, 0, 255).astype(np.uint8)
                write_image(root / split / name / f"{name}_{index}.png", image)
    return root


def write_classification_config(path: Path, data_root: Path, *, size: int, **train) -> Path:
    """A TOML config: the fixture backbone on a 3-class image folder, with the given [train] options."""
    import tomli_w

    config = {
        "task": "classification",
        "classes": 3,
        "input_shape": [1, 3, size, size],
        "backbone": {"name": "tinynet"},
        "data": {"dataset": "image_folder", "root": str(data_root)},
        "train": {"progress": False, **train},
    }
    path.write_text(tomli_w.dumps(config))
    return path


def run_cli(capsys: pytest.CaptureFixture, *argv: object) -> tuple[int, str, str]:
    """``cvcore ARGV...`` in this process: (exit code, stdout, stderr); an exit by SystemExit (``--help``) gives its code."""
    from cvcore.cli import main

    try:
        code = main([str(arg) for arg in argv])
    except SystemExit as exit:
        code = exit.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- A small trained classifier and its data (tests/int8) ------------------------------
STRIPES_SIZE = 32


@pytest.fixture(scope="session")
def stripes_root(tmp_path_factory):
    """Image folders of 4 classes, noisy stripes at 0, 45, 90 and 135 degrees in random colours, 32x32.

    Orientation is learnt in seconds but not from mean colour, so a trained
    model has real decision boundaries for INT8 to keep.
    """
    import numpy as np

    from cvcore.data.image import write_image

    root = tmp_path_factory.mktemp("stripes")
    rng = np.random.default_rng(0)
    ys, xs = np.mgrid[0:STRIPES_SIZE, 0:STRIPES_SIZE]
    for split, count in (("train", 48), ("val", 16)):
        for k in range(4):
            for i in range(count):
                angle = np.pi * k / 4 + rng.normal(0, 0.12)
                wave = np.sin((np.cos(angle) * xs + np.sin(angle) * ys) * rng.uniform(0.5, 1.0) + rng.uniform(0, 2 * np.pi))
                image = rng.uniform(40, 215, 3) + wave[..., None] * rng.uniform(20, 60) + rng.normal(0, 25, (STRIPES_SIZE, STRIPES_SIZE, 3))
                write_image(root / split / f"angle{45 * k}" / f"{i}.png", np.clip(image, 0, 255).astype(np.uint8))
    return root


@pytest.fixture(scope="session")
def trained_classifier(stripes_root, tmp_path_factory):
    """resnet18_v1 trained 6 epochs on the stripes (mirroring would change the class, so no flips).

    Seeded: its initial weights come from MXNet's global generator, which the tests before it move, in
    whatever order they run.
    """
    import mxnet as mx

    from cvcore.pipeline import Pipeline

    mx.random.seed(0)
    pipeline = Pipeline.from_model("resnet18_v1", classes=4, input_shape=[1, 3, STRIPES_SIZE, STRIPES_SIZE],
                                   data={"dataset": "image_folder", "root": str(stripes_root)},
                                   augment={"scale": [0.7, 1.0], "ratio": [0.9, 1.1], "flip": 0.0, "lighting": 0.0})
    pipeline.fit(epochs=6, batch_size=16, optimizer="adam", lr=1e-3, wd=1e-4, progress=False,
                 out_dir=str(tmp_path_factory.mktemp("classifier-run")))
    return pipeline


@pytest.fixture
def classifier(trained_classifier):
    """A private copy of the trained classifier."""
    return trained_classifier.copy()


@pytest.fixture(scope="session")
def val_set(trained_classifier):
    """The stripes validation split, as the trained classifier reads it."""
    return trained_classifier.task.dataset(trained_classifier, "val")


@pytest.fixture(scope="session")
def top1():
    """``top1(pipeline, dataset)``: the predicted class of every sample, in order."""

    def predict(pipeline, dataset):
        import numpy as np

        from cvcore.train.data import make_loader

        tops = []
        for batch in make_loader(pipeline, dataset, train=False, batch_size=16):
            inputs, _ = pipeline.task.split_batch(batch)
            tops.append(pipeline.net(inputs).asnumpy().argmax(axis=1))
        return np.concatenate(tops)

    return predict


# --- GluonCV oracle (make test-slow) ----------------------------------------------------
def oracle_unavailable(error: Exception) -> None:
    """Skip a GluonCV output-parity test whose throwaway GluonCV environment cannot be built here.

    Under ``CI=true`` or ``CVCORE_REQUIRE_ORACLE=1`` that is a failure instead: a run that compared
    nothing must not pass for one that compared everything.
    """
    if os.environ.get("CI", "").lower() == "true" or os.environ.get("CVCORE_REQUIRE_ORACLE") == "1":
        pytest.fail(f"The GluonCV oracle is required here (CI or CVCORE_REQUIRE_ORACLE=1) but unavailable: {error}")
    pytest.skip(f"GluonCV oracle unavailable (set CVCORE_REQUIRE_ORACLE=1 to fail instead): {error}")


def gluoncv_or_skip(models: list[str], input_shape: tuple[int, ...], workdir: Path, kwargs: dict | None = None) -> dict:
    """GluonCV's outputs of ``models`` (``gluoncv_oracle.run_gluoncv``), or the skip/failure of :func:`oracle_unavailable`."""
    from gluoncv_oracle import OracleUnavailable, run_gluoncv

    try:
        return run_gluoncv(models, input_shape, workdir, kwargs)
    except OracleUnavailable as exc:
        oracle_unavailable(exc)


def assert_gives_gluoncvs_output(name: str, result: tuple, output_shape: tuple[int, ...], **options) -> None:
    """Zoo model ``name`` loads GluonCV's parameter file of ``result`` (file, input, output) and gives GluonCV's output."""
    import mxnet as mx
    import numpy as np

    from cvcore.pipeline import Pipeline

    params, x, expected = result
    pipeline = Pipeline.from_model(name, pretrained=str(params), **options)
    out = pipeline.net(mx.nd.array(x)).asnumpy()
    assert out.shape == expected.shape == output_shape
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4 * float(np.abs(expected).max()))


# --- Small synthetic GAN datasets (tests/gan), written through the plugin's own generators ---------------
@pytest.fixture(scope="session")
def sr_root(tmp_path_factory):
    from cvcore_gan.synthetic import synthesize_sr

    root = tmp_path_factory.mktemp("sr")
    synthesize_sr(root, train=8, val=2, size=64)
    return root


@pytest.fixture(scope="session")
def unpaired_root(tmp_path_factory):
    from cvcore_gan.synthetic import synthesize_unpaired

    root = tmp_path_factory.mktemp("unpaired")
    synthesize_unpaired(root, train=6, test=2, size=40)
    return root


class StopAt(cvcore.train.Callback):
    """Simulates Ctrl-C: raises KeyboardInterrupt once ``step`` updates are done (tests of resume)."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, state, record) -> None:
        if state.global_step == self.step:
            raise KeyboardInterrupt
