"""ImageFolderDataset: reading back real files, errors that name the fix, skipping bad images, loader workers."""
from __future__ import annotations

import re
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from mxnet import gluon

from cvcore.data.folder import BadImageWarning, ImageFolderDataset
from cvcore.data.image import ImageReadError, read_image, write_image
from cvcore.data.synthetic.classification import synthesize
from cvcore.errors import ConfigError
from cvcore.tasks.classification import ClassificationTask


@pytest.fixture
def shapes(tmp_path: Path) -> Path:
    """A synthetic image folder: 3 classes, 4 training and 2 validation 32x32 JPEGs each."""
    root = tmp_path / "shapes"
    synthesize(root, classes=3, train_per_class=4, val_per_class=2, size=32)
    return root


def test_samples_are_rgb_uint8_with_class_indices(shapes):
    dataset = ImageFolderDataset(shapes, "train")
    assert dataset.classes == ["circle_stripes", "square_stripes", "triangle_stripes"]
    assert len(dataset) == 12
    image, label = dataset[5]
    assert image.shape == (32, 32, 3) and image.dtype == np.uint8 and label == 1
    assert dataset.class_counts == {"circle_stripes": 4, "square_stripes": 4, "triangle_stripes": 4}


def test_summary_counts_images_per_class(shapes):
    (shapes / "val" / "empty_class").mkdir()
    summary = ImageFolderDataset(shapes, "val").summary()
    assert summary.splitlines()[0] == f"{shapes / 'val'}: 6 images in 4 classes"
    assert re.search(r"^  circle_stripes +2$", summary, re.MULTILINE)
    assert re.search(r"^  empty_class +0$", summary, re.MULTILINE)
    assert "1 class folders have no images (empty_class)" in summary


def test_split_none_reads_class_folders_directly_and_hidden_folders_are_not_classes(shapes):
    (shapes / "train" / ".ipynb_checkpoints").mkdir()
    (shapes / "train" / "circle_stripes" / "notes.txt").write_text("not an image")
    dataset = ImageFolderDataset(shapes / "train", split=None)
    assert len(dataset.classes) == 3 and len(dataset) == 12


@pytest.mark.parametrize(
    "where, split, message",
    [
        ("missing", "train", "does not exist.*cvcore data synth classification"),
        ("root", "test", r"has no 'test' split folder \(it has: train, val\)"),
        ("no_classes", "train", "has no class sub-folders"),
        ("no_images", "train", r"No images \(.jpg.*\) in the class folders"),
    ],
)
def test_layout_errors_name_the_folder_and_the_fix(shapes, tmp_path, where, split, message):
    root = {"missing": tmp_path / "nowhere", "root": shapes}.get(where, tmp_path / where)
    if where == "no_classes":
        (root / "train").mkdir(parents=True)
    if where == "no_images":
        (root / "train" / "cats").mkdir(parents=True)
    with pytest.raises(ConfigError, match=message):
        ImageFolderDataset(root, split)


def test_an_unknown_bad_image_policy_is_named(shapes):
    with pytest.raises(ConfigError, match="on_bad_image must be one of 'raise', 'skip', got 'ignore'"):
        ImageFolderDataset(shapes, on_bad_image="ignore")


def corrupt(shapes: Path, name: str = "00001.jpg", content: bytes = b"\xff\xd8 truncated") -> Path:
    bad = shapes / "train" / "square_stripes" / name
    bad.write_bytes(content)
    return bad


def test_a_corrupt_image_raises_naming_the_file_and_the_skip_option(shapes):
    bad = corrupt(shapes)
    dataset = ImageFolderDataset(shapes)
    with pytest.raises(ImageReadError, match=rf"{bad} could not be decoded.*on_bad_image = \"skip\""):
        dataset[5]


def test_skip_mode_warns_once_with_a_count_and_serves_the_next_image(shapes):
    first, second = corrupt(shapes, "00001.jpg"), corrupt(shapes, "00002.jpg", b"")
    dataset = ImageFolderDataset(shapes, on_bad_image="skip")
    with pytest.warns(BadImageWarning) as caught:
        image, label = dataset[5]
    assert [str(w.message).split(" (")[0] for w in caught] == [f"Skipped unreadable image {bad}" for bad in (first, second)]
    assert "2 skipped so far" in str(caught[1].message)
    np.testing.assert_array_equal(image, read_image(shapes / "train" / "square_stripes" / "00003.jpg"))
    assert label == 1 and set(dataset.skipped) == {first, second}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # known bad files are passed over silently
        assert dataset[6][1] == 1 and len(dataset) == 12
    assert "skipped as unreadable: 2" in dataset.summary()


def test_skip_mode_with_nothing_readable_raises(tmp_path):
    (tmp_path / "train" / "a").mkdir(parents=True)
    for name in ("1.jpg", "2.png"):
        (tmp_path / "train" / "a" / name).write_bytes(b"junk")
    with pytest.warns(BadImageWarning), pytest.raises(ImageReadError, match="None of the 2 images"):
        ImageFolderDataset(tmp_path, on_bad_image="skip")[0]


def test_read_and_write_errors_name_the_file(tmp_path):
    with pytest.raises(ImageReadError, match=r"missing.png does not exist; check the path"):
        read_image(tmp_path / "missing.png")
    with pytest.raises(ImageReadError, match=r"as '.xyz' for .*picture.xyz; use one of .jpg"):
        write_image(tmp_path / "picture.xyz", np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ImageReadError, match="needs a uint8 HxWx3"):
        write_image(tmp_path / "picture.png", np.zeros((4, 4, 3), np.float32))


def test_write_then_read_round_trips_rgb_and_grey(tmp_path):
    image = np.random.default_rng(0).integers(0, 256, (9, 7, 3), dtype=np.uint8)
    write_image(tmp_path / "a.png", image)
    np.testing.assert_array_equal(read_image(tmp_path / "a.png"), image)
    write_image(tmp_path / "grey.png", image[..., 0])
    np.testing.assert_array_equal(read_image(tmp_path / "grey.png"), np.repeat(image[..., :1], 3, axis=2))


def loader(dataset, train: bool, num_workers: int) -> gluon.data.DataLoader:
    pipeline = SimpleNamespace(options={"input_shape": [1, 3, 24, 24]})
    transform = ClassificationTask().sample_transform(pipeline, train=train)
    return gluon.data.DataLoader(dataset.transform(transform), batch_size=4, shuffle=train, num_workers=num_workers)


def test_worker_processes_load_batches_and_survive_a_bad_image(shapes):
    corrupt(shapes)
    dataset = ImageFolderDataset(shapes, on_bad_image="skip")
    batches = list(loader(dataset, train=True, num_workers=2))
    assert len(batches) == 3
    assert all(x.shape == (4, 3, 24, 24) and y.shape == (4,) for x, y in batches)
    labels = np.sort(np.concatenate([y.asnumpy() for _, y in batches]))
    np.testing.assert_array_equal(labels, np.repeat([0.0, 1.0, 2.0], 4))


def test_workers_give_the_same_evaluation_batches_as_the_main_process(shapes):
    dataset = ImageFolderDataset(shapes, "val")
    in_process = [x.asnumpy() for x, _ in loader(dataset, train=False, num_workers=0)]
    in_workers = [x.asnumpy() for x, _ in loader(dataset, train=False, num_workers=2)]
    np.testing.assert_array_equal(np.concatenate(in_process), np.concatenate(in_workers))


class SeededSamples(gluon.data.Dataset):
    """Sample ``i`` augmented with a generator seeded by ``i`` (how the training engine calls the transform)."""

    def __init__(self, dataset, transform):
        self.dataset, self.transform = dataset, transform

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        return self.transform(*self.dataset[index], rng=np.random.default_rng([7, index]))


def test_seeded_training_batches_are_the_same_in_workers_and_in_process(shapes):
    transform = ClassificationTask().sample_transform(SimpleNamespace(options={"input_shape": [1, 3, 24, 24]}), train=True)
    dataset = SeededSamples(ImageFolderDataset(shapes), transform)
    batches = [
        np.concatenate([x.asnumpy() for x, _ in gluon.data.DataLoader(dataset, batch_size=4, num_workers=workers)])
        for workers in (0, 2)
    ]
    np.testing.assert_array_equal(*batches)
