"""Pascal VOC folders: the XML reader, the dataset and its COCO ground truth, bad input named, and the synthetic VOC set."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from cvcore.data.coco import SkippedAnnotationsWarning
from cvcore.data.image import ImageReadError, write_image
from cvcore.data.synthetic.voc import CLASSES, synthesize
from cvcore.data.voc_detection import VOCDetection, VOCFormatError, read_annotation
from cvcore.errors import ConfigError
from cvcore.plugins import get


def annotation_xml(objects: str, size: str = "<width>40</width><height>30</height><depth>3</depth>") -> str:
    return f"<annotation><filename>a.jpg</filename><size>{size}</size>{objects}</annotation>"


def voc_object(name: str, box: tuple, difficult: int = 0, truncated: int = 0) -> str:
    xmin, ymin, xmax, ymax = box
    return (f"<object><name>{name}</name><truncated>{truncated}</truncated><difficult>{difficult}</difficult>"
            f"<bndbox><xmin>{xmin}</xmin><ymin>{ymin}</ymin><xmax>{xmax}</xmax><ymax>{ymax}</ymax></bndbox></object>")


def voc_folder(root, annotations: dict[str, str], split: str = "train", sizes: dict[str, tuple[int, int]] | None = None):
    """A VOC folder with one XML per id, a grey image of each declared size, and the split's list."""
    for folder in ("Annotations", "JPEGImages", "ImageSets/Main"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for voc_id, xml in annotations.items():
        (root / "Annotations" / f"{voc_id}.xml").write_text(xml)
        width, height = (sizes or {}).get(voc_id, (40, 30))
        write_image(root / "JPEGImages" / f"{voc_id}.jpg", np.full((height, width, 3), 128, np.uint8))
    (root / "ImageSets" / "Main" / f"{split}.txt").write_text("".join(f"{voc_id}\n" for voc_id in annotations))
    return root


def test_read_annotation_converts_voc_boxes_to_continuous_pixels(tmp_path):
    path = tmp_path / "a.xml"
    path.write_text(annotation_xml(voc_object("dog", (1, 1, 10, 20), difficult=1) + voc_object("cat", (5, 6, 7, 8), truncated=1)))
    record = read_annotation(path)
    assert (record.filename, record.width, record.height) == ("a.jpg", 40, 30)
    dog, cat = record.objects
    assert dog.box == (0, 0, 10, 20) and dog.difficult and not dog.truncated  # xmin=1..xmax=10 covers ten pixels
    assert cat.box == (4, 5, 7, 8) and cat.truncated and not cat.difficult


@pytest.mark.parametrize("xml, message", [
    (annotation_xml(voc_object("dog", (1, 1, 10, 20)))[:-20], "not well-formed XML"),
    ("<annotations></annotations>", "not VOC's <annotation>"),
    (annotation_xml("", size="<width>40</width>"), "no <size><height>"),
    (annotation_xml("", size="<width>4.5</width><height>3</height>"), "not a whole number"),
    (annotation_xml(voc_object("dog", (1, 1, "ten", 20))), "object 0: <bndbox><xmax> is 'ten', not a number"),
    (annotation_xml(voc_object("dog", (1, 1, 10, 20)) + voc_object("", (1, 1, 10, 20))), "object 1 has no <name>"),
    (annotation_xml(voc_object("dog", (10, 1, 8, 20))), "object 0 \\(dog\\).*has no area"),
    (annotation_xml(voc_object("dog", (1, 1, 10, 20), difficult=2)), "<difficult> is '2'"),
])
def test_a_malformed_annotation_is_named_with_its_file_and_object(tmp_path, xml, message):
    path = tmp_path / "broken.xml"
    path.write_text(xml)
    with pytest.raises(VOCFormatError, match=message) as raised:
        read_annotation(path)
    assert str(path) in str(raised.value)


def test_the_dataset_serves_coco_targets_with_difficult_objects_as_crowds(tmp_path):
    root = voc_folder(tmp_path, {"img1": annotation_xml(voc_object("dog", (1, 1, 10, 20)) + voc_object("cat", (2, 2, 50, 9), difficult=1)),
                                 "img2": annotation_xml(voc_object("cat", (3, 4, 5, 6)))})
    dataset = VOCDetection(root, "train", classes=["cat", "dog"])
    image, target = dataset[0]
    assert image.shape == (30, 40, 3) and target["image_id"] == 1 and dataset.names == {1: "img1", 2: "img2"}
    np.testing.assert_array_equal(target["boxes"], [[0, 0, 10, 20], [1, 1, 40, 9]])  # the second is clipped to the image
    assert target["labels"].tolist() == [1, 0] and target["crowd"].tolist() == [False, True]
    annotations = dataset.coco.loadAnns(dataset.coco.getAnnIds(imgIds=[1]))
    assert [(a["category_id"], a["bbox"], a["iscrowd"]) for a in annotations] == [(2, [0, 0, 10, 20], 0), (1, [1, 1, 39, 8], 1)]
    assert dataset.category_ids == [1, 2] and [c["name"] for c in dataset.coco.loadCats([1, 2])] == ["cat", "dog"]
    assert "2 images, 3 objects (1 difficult), 2 classes" in dataset.summary()


def test_voc20_is_the_default_and_other_names_are_skipped_with_one_counted_warning(tmp_path):
    root = voc_folder(tmp_path, {"a": annotation_xml(voc_object("dog", (1, 1, 10, 20)) + voc_object("unicorn", (1, 1, 5, 5))),
                                 "b": annotation_xml(voc_object("unicorn", (1, 1, 5, 5)))})
    with pytest.warns(SkippedAnnotationsWarning, match=r"skipped 2 object\(s\): 2 with a name not among the classes "
                                                       r"\(objects a#1, b#0; names unicorn\)"):
        dataset = VOCDetection(root, "train")
    assert dataset.classes[11] == "dog" and len(dataset.classes) == 20
    assert len(dataset) == 1 and dataset.empty_images == ["b"]  # training splits drop images left empty
    assert dataset.skipped == {"class": ["a#1", "b#0"]}


def test_a_missing_split_list_says_which_splits_exist(tmp_path):
    root = voc_folder(tmp_path, {"a": annotation_xml(voc_object("dog", (1, 1, 10, 20)))}, split="trainval")
    with pytest.raises(VOCFormatError, match=r"ImageSets/Main/train.txt does not exist \(splits there: trainval\)"):
        VOCDetection(root, "train")


def test_a_listed_image_without_annotation_or_pixels_is_named(tmp_path):
    root = voc_folder(tmp_path, {"a": annotation_xml(voc_object("dog", (1, 1, 10, 20)))})
    (root / "ImageSets" / "Main" / "train.txt").write_text("a\nmissing\n")
    with pytest.raises(VOCFormatError, match=r"Annotations/missing.xml does not exist"):
        VOCDetection(root, "train")
    (root / "ImageSets" / "Main" / "train.txt").write_text("a\n")
    (root / "JPEGImages" / "a.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(ImageReadError, match=r"VOC id a of .*train.txt"):
        VOCDetection(root, "train")[0]


def test_an_image_of_another_size_than_its_annotation_is_named(tmp_path):
    root = voc_folder(tmp_path, {"a": annotation_xml(voc_object("dog", (1, 1, 10, 20)))}, sizes={"a": (41, 30)})
    with pytest.raises(VOCFormatError, match=r"a.xml gives 40x30 pixels but .*a.jpg is 41x30"):
        VOCDetection(root, "train")[0]


def test_bad_options_are_named(tmp_path):
    root = voc_folder(tmp_path, {"a": annotation_xml(voc_object("dog", (1, 1, 10, 20)))})
    with pytest.raises(ConfigError, match="min_box_size"):
        VOCDetection(root, "train", min_box_size=-1)
    with pytest.raises(ConfigError, match="each class once"):
        VOCDetection(root, "train", classes=["dog", "dog"])
    with pytest.raises(ConfigError, match="voc21"):
        VOCDetection(root, "train", classes="voc21")


def test_the_synthetic_voc_set_reads_back_through_the_registered_dataset(tmp_path):
    root = synthesize(tmp_path / "voc", train=12, val=6, size=(128, 96), seed=3, progress=False)
    assert (root / "ImageSets" / "Main" / "trainval.txt").read_text().split() == [f"train_{i:06d}" for i in range(12)] + [
        f"val_{i:06d}" for i in range(6)]
    dataset = get("dataset", "voc_detection").build(root=str(root), split="val", classes=list(CLASSES))
    assert len(dataset) == 6  # val keeps images without objects
    objects = [dataset[i][1] for i in range(len(dataset))]
    boxes = np.concatenate([t["boxes"] for t in objects])
    assert len(boxes) > 6 and (boxes[:, 2] <= 128).all() and (boxes[:, 3] <= 96).all() and (boxes[:, :2] >= 0).all()
    again = synthesize(tmp_path / "again", train=12, val=6, size=(128, 96), seed=3, progress=False)
    assert (again / "Annotations" / "val_000002.xml").read_bytes() == (root / "Annotations" / "val_000002.xml").read_bytes()
    with pytest.raises(ConfigError, match="not empty"):
        synthesize(root, train=1, val=0, progress=False)
    shutil.rmtree(root / "JPEGImages")
    synthesize(root, train=1, val=1, overwrite=True, progress=False)
    assert sorted(p.name for p in (root / "JPEGImages").iterdir()) == ["train_000000.jpg", "val_000000.jpg"]
