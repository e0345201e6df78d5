"""cvcore data synth shapes: a COCO detection and instance-segmentation set that COCO's own tools and cvcore's reader accept."""
from __future__ import annotations

import json

import numpy as np
import pytest
from pycocotools.coco import COCO

from cvcore.cli import main
from cvcore.data.coco_detection import COCODetection
from cvcore.data.synthetic.shapes import synthesize
from cvcore.errors import ConfigError


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    root = tmp_path_factory.mktemp("shapes")
    assert main(["data", "synth", "shapes", str(root), "--set", "train=40", "--set", "val=4", "--set", "size=[128, 128]",
                 "--set", "progress=false"]) == 0
    return root


def test_the_set_is_coco_with_gaps_in_its_category_ids(shapes):
    coco = COCO(str(shapes / "annotations" / "instances_train.json"))
    ids = sorted(coco.getCatIds())
    assert len(ids) == 5 and ids != list(range(1, 6))
    dataset = COCODetection(shapes, "train", masks=True)
    assert dataset.category_ids == ids and len(dataset.classes) == 5


def test_visible_parts_are_annotated_in_both_segmentation_forms_with_crowds_and_empty_images(shapes):
    coco = COCO(str(shapes / "annotations" / "instances_train.json"))
    annotations = coco.dataset["annotations"]
    assert any(isinstance(a["segmentation"], list) for a in annotations)  # unoccluded: polygons
    assert any(isinstance(a["segmentation"], dict) and not a["iscrowd"] for a in annotations)  # occluded: RLE
    assert any(a["iscrowd"] for a in annotations)
    assert any(not coco.getAnnIds(imgIds=image_id) for image_id in coco.getImgIds())
    for image_id in coco.getImgIds():
        solid = [a for a in coco.loadAnns(coco.getAnnIds(imgIds=image_id)) if not a["iscrowd"]]
        masks = np.stack([coco.annToMask(a) for a in solid]) if solid else np.zeros((0, 128, 128))
        assert (masks.sum(axis=0) <= 1).all()  # occlusion: a pixel belongs to one visible object at most
        for annotation, mask in zip(solid, masks):
            rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
            x, y, w, h = annotation["bbox"]
            assert abs(cols[0] - x) <= 1 and abs(cols[-1] + 1 - (x + w)) <= 1 and abs(rows[0] - y) <= 1
            assert abs(mask.sum() - annotation["area"]) <= 0.1 * annotation["area"] + 10


def test_a_seed_gives_the_same_set_and_more_images_leave_the_first_ones_alone(shapes, tmp_path):
    synthesize(tmp_path / "again", train=40, val=4, size=(128, 128), progress=False)
    synthesize(tmp_path / "more", train=45, val=4, size=(128, 128), progress=False)
    first = json.loads((shapes / "annotations" / "instances_train.json").read_text())
    assert json.loads((tmp_path / "again" / "annotations" / "instances_train.json").read_text()) == first
    more = json.loads((tmp_path / "more" / "annotations" / "instances_train.json").read_text())
    assert more["annotations"][: len(first["annotations"])] == first["annotations"]
    name = first["images"][3]["file_name"]
    assert (tmp_path / "more" / "train" / name).read_bytes() == (shapes / "train" / name).read_bytes()


def test_a_non_empty_folder_is_not_overwritten_unless_asked(shapes):
    with pytest.raises(ConfigError, match="overwrite=true"):
        synthesize(shapes, train=2, val=1, size=(128, 128), progress=False)
    with pytest.raises(ConfigError, match="size >= 64"):
        synthesize(shapes / "small", size=(32, 32), progress=False)


def test_the_coco_detection_dataset_keeps_the_dataset_contract():
    from cvcore import testing

    count = testing.check_dataset("coco_detection", split="val", masks=True,
                                  synthesize={"train": 2, "val": 3, "size": [96, 96], "progress": False})
    assert count == 3  # evaluation keeps images without objects
