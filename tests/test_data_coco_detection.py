"""cvcore.data.coco_detection.COCODetection: samples, labels, masks and bad COCO instance files, from real files."""
from __future__ import annotations

import contextlib
import io
import json
import re
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.cocoeval import COCOeval

from cvcore.data.coco import COCOFormatError, SkippedAnnotationsWarning
from cvcore.data.coco_detection import COCODetection
from cvcore.data.image import ImageReadError
from cvcore.errors import ConfigError

HEIGHT, WIDTH = 48, 64
COLORS = {1: (200, 30, 10), 2: (10, 30, 200), 3: (20, 180, 20)}  # RGB per image id; image 3 has no annotations
CATEGORIES = [{"id": 18, "name": "dog"}, {"id": 3, "name": "car"}, {"id": 90, "name": "toothbrush"}]  # not sorted, not contiguous


def rectangle(top: int, left: int, bottom: int, right: int) -> np.ndarray:
    mask = np.zeros((HEIGHT, WIDTH), dtype=np.uint8)
    mask[top:bottom, left:right] = 1
    return mask


def compressed_rle(mask: np.ndarray) -> dict:
    rle = mask_utils.encode(np.asfortranarray(mask))
    return {"size": rle["size"], "counts": rle["counts"].decode("ascii")}


def uncompressed_rle(mask: np.ndarray) -> dict:
    """COCO's crowd format: run lengths of 0s, 1s, 0s, ... over the mask in column-major order."""
    flat = mask.flatten(order="F")
    changes = np.flatnonzero(np.diff(flat)) + 1
    runs = np.diff(np.concatenate([[0], changes, [flat.size]])).tolist()
    return {"size": [HEIGHT, WIDTH], "counts": ([0] if flat[0] else []) + runs}


def annotation(ann_id: int, image_id: int, category_id: int, bbox, segmentation=None, **extra) -> dict:
    return {"id": ann_id, "image_id": image_id, "category_id": category_id, "bbox": list(bbox), "iscrowd": 0,
            "area": float(bbox[2] * bbox[3]) if len(bbox) == 4 else 1.0,
            "segmentation": segmentation if segmentation is not None else [[1, 1, 5, 1, 5, 5, 1, 5]], **extra}


def instances(annotations: list[dict]) -> dict:
    images = [{"id": i, "file_name": f"{i:012d}.jpg", "width": WIDTH, "height": HEIGHT} for i in COLORS]
    return {"images": images, "annotations": annotations, "categories": CATEGORIES}


def good_annotations() -> list[dict]:
    return [
        annotation(1, 1, 3, (4, 6, 20, 10), [[4, 6, 24, 6, 24, 16, 4, 16]]),  # a polygon
        annotation(2, 1, 18, (50, 30, 30, 30), compressed_rle(rectangle(30, 50, 48, 64))),  # box sticking out
        annotation(3, 1, 90, (0, 0, 10, 10), uncompressed_rle(rectangle(0, 0, 10, 10)), iscrowd=1),
        annotation(4, 2, 18, (40, -10, 40, 30), [[40, -10, 80, -10, 80, 20, 40, 20]]),  # polygon out of the image
    ]


def write_dataset(root: Path, split: str, annotations: list[dict], data: dict | None = None) -> Path:
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    (root / split).mkdir(exist_ok=True)
    for image_id, rgb in COLORS.items():
        cv2.imwrite(str(root / split / f"{image_id:012d}.jpg"), np.full((HEIGHT, WIDTH, 3), rgb[::-1], dtype=np.uint8))
    path = root / "annotations" / f"instances_{split}.json"
    path.write_text(json.dumps(data if data is not None else instances(annotations)))
    return path


@pytest.fixture
def val(tmp_path: Path) -> Path:
    write_dataset(tmp_path, "val", good_annotations())
    return tmp_path


def test_labels_are_contiguous_in_category_id_order_and_map_back(val):
    dataset = COCODetection(val, "val")
    assert dataset.classes == ["car", "dog", "toothbrush"] and dataset.category_ids == [3, 18, 90]
    assert [dataset.label_of(category_id) for category_id in (3, 18, 90)] == [0, 1, 2]
    assert all(dataset.category_ids[dataset.label_of(i)] == i for i in dataset.category_ids)
    with pytest.raises(KeyError, match=r"Category id 5 is not in the categories of .*instances_val\.json \(ids 3, 18, 90\)"):
        dataset.label_of(5)


def test_a_sample_has_xyxy_boxes_clipped_to_the_image_and_crowd_flags(val):
    dataset = COCODetection(val, "val")
    assert len(dataset) == 3 and dataset.image_ids == [1, 2, 3]  # val keeps the image without annotations
    image, target = dataset[0]
    assert image.shape == (HEIGHT, WIDTH, 3) and image.dtype == np.uint8
    assert np.abs(image.astype(int) - COLORS[1]).max() < 8  # RGB, not BGR
    assert target["boxes"].dtype == np.float32 and target["labels"].dtype == np.int32 and target["crowd"].dtype == bool
    assert target["boxes"].tolist() == [[4, 6, 24, 16], [50, 30, 64, 48], [0, 0, 10, 10]]
    assert target["labels"].tolist() == [0, 1, 2] and target["crowd"].tolist() == [False, False, True]
    assert (target["image_id"], target["size"]) == (1, (HEIGHT, WIDTH)) and "masks" not in target
    _, second = dataset[1]
    assert second["boxes"].tolist() == [[40, 0, 64, 20]]
    _, empty = dataset[2]
    assert empty["boxes"].shape == (0, 4) and empty["labels"].shape == (0,) and empty["crowd"].shape == (0,)
    assert repr(dataset) == f"COCODetection({str(val / 'annotations' / 'instances_val.json')!r}, 3 images, 3 classes)"


def test_polygon_compressed_and_uncompressed_rle_masks_decode_to_their_pixels(val):
    dataset = COCODetection(val, "val", masks=True)
    _, target = dataset[0]
    assert target["masks"].shape == (3, HEIGHT, WIDTH) and target["masks"].dtype == np.uint8
    assert np.array_equal(target["masks"][0], rectangle(6, 4, 16, 24))  # polygon
    assert np.array_equal(target["masks"][1], rectangle(30, 50, 48, 64))  # compressed RLE
    assert np.array_equal(target["masks"][2], rectangle(0, 0, 10, 10))  # uncompressed RLE (crowd)
    _, second = dataset[1]
    assert np.array_equal(second["masks"][0], rectangle(0, 40, 20, 64))  # the polygon cut to the image
    assert dataset[2][1]["masks"].shape == (0, HEIGHT, WIDTH)
    assert "masks" in repr(dataset)


def test_the_ground_truth_fed_back_scores_one(val):
    dataset = COCODetection(val, "val")
    assert dataset.coco.getImgIds() == [1, 2, 3] and sorted(dataset.coco.getAnnIds()) == [1, 2, 3, 4]
    assert dataset.coco.loadAnns(2)[0]["bbox"] == [50.0, 30.0, 14.0, 18.0]  # clipped, as the samples are
    results = [{"image_id": target["image_id"], "category_id": dataset.category_ids[label], "score": 1.0,
                "bbox": [x1, y1, x2 - x1, y2 - y1]}
               for _, target in dataset
               for (x1, y1, x2, y2), label, crowd in zip(target["boxes"].tolist(), target["labels"], target["crowd"]) if not crowd]
    with contextlib.redirect_stdout(io.StringIO()):
        evaluation = COCOeval(dataset.coco, dataset.coco.loadRes(results), "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    assert evaluation.stats[0] == pytest.approx(1.0)


def test_images_without_annotations_are_dropped_for_train_and_kept_for_val(tmp_path):
    write_dataset(tmp_path, "train", good_annotations())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # dropping what was asked to be dropped is not a data problem
        train = COCODetection(tmp_path, "train")
    assert train.image_ids == [1, 2] and train.empty_images == [3] and train.coco.getImgIds() == [1, 2]
    assert "1 images without annotations dropped" in train.summary()
    assert COCODetection(tmp_path, "train", skip_empty=False).image_ids == [1, 2, 3]
    write_dataset(tmp_path, "val", good_annotations())
    assert COCODetection(tmp_path, "val", skip_empty=True).image_ids == [1, 2]
    assert "1 images without annotations kept" in COCODetection(tmp_path, "val").summary()


def test_unusable_annotations_are_skipped_with_one_counted_warning(tmp_path):
    path = write_dataset(tmp_path, "train", [
        *good_annotations(),
        annotation(7, 2, 99, (1, 1, 10, 10)), annotation(17, 2, 98, (1, 1, 10, 10)),  # unknown categories
        annotation(8, 2, 3, (1, 1, float("nan"), 10)), annotation(9, 2, 3, (1, 1, 10)),  # not 4 finite numbers
        annotation(10, 2, 3, (1, 1, 0.5, 10)), annotation(11, 2, 3, (70, 1, 10, 10)),  # too thin; outside the image
        annotation(12, 2, 3, (1, 1, 10, 10), [[1, 1, 5, 1]]),  # a "polygon" of two points
        annotation(13, 2, 3, (1, 1, 10, 10), {"size": [10, 10], "counts": [100]}),  # an RLE of another size
        annotation(14, 3, 3, (1, 1, 10, 10), [[1, 1, 5, 1]]),  # the only annotation of image 3
    ])
    with pytest.warns(SkippedAnnotationsWarning) as caught:
        dataset = COCODetection(tmp_path, "train", masks=True)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert message.startswith(f"{path}: skipped 9 annotation(s): ")
    assert "2 with a category_id not in 'categories' (annotation ids 7, 17; category ids 98, 99)" in message
    assert "2 with a 'bbox' that is not 4 finite numbers [x, y, w, h] (annotation ids 8, 9)" in message
    assert "2 with a box under min_box_size pixels wide or high once clipped to the image (annotation ids 10, 11)" in message
    assert "(annotation ids 12, 13, 14)" in message
    assert message.endswith("1 image(s) without annotations dropped (skip_empty).")
    assert dataset.skipped == {"category": [7, 17], "bbox": [8, 9], "small": [10, 11], "segmentation": [12, 13, 14]}
    assert dataset.image_ids == [1, 2] and sorted(dataset.coco.getAnnIds()) == [1, 2, 3, 4]
    assert "skipped 3 with a 'segmentation'" in dataset.summary()
    with pytest.warns(SkippedAnnotationsWarning) as caught:
        unmasked = COCODetection(tmp_path, "train", masks=False)
    assert len(unmasked.coco.getAnnIds()) == 7  # segmentations are only checked for masks
    assert str(caught[0].message).endswith("(annotation ids 10, 11).")  # no images left empty


def test_min_box_size(tmp_path):
    write_dataset(tmp_path, "val", [annotation(1, 1, 3, (1, 1, 3, 20)), annotation(2, 1, 3, (1, 1, 20, 20))])
    assert len(COCODetection(tmp_path, "val")[0][1]["boxes"]) == 2
    with pytest.warns(SkippedAnnotationsWarning, match=r"under min_box_size .*\(annotation ids 1\)"):
        assert COCODetection(tmp_path, "val", min_box_size=5)[0][1]["boxes"].tolist() == [[1, 1, 21, 21]]
    with pytest.raises(ConfigError, match="min_box_size must be a number >= 0"):
        COCODetection(tmp_path, "val", min_box_size=-1)


@pytest.mark.parametrize(
    "data, message",
    [
        ("{not json", "is not valid JSON"),
        ({"annotations": [], "categories": CATEGORIES}, "has no 'images' list"),
        ({"images": [], "categories": CATEGORIES}, "has no 'annotations' list"),
        ({"images": {}, "annotations": [], "categories": CATEGORIES}, "has a dict as its 'images' list"),
        ([1, 2], "must hold a JSON object"),
        ({**instances([]), "categories": None}, "'categories' must be a list, got NoneType"),
        ({**instances([]), "categories": []}, "has no 'categories'"),
        ({**instances([]), "categories": [{"id": 1}]}, r"categories\[0\] needs an integer 'id' and a string 'name'"),
        ({**instances([]), "categories": [{"id": 1, "name": "a"}, {"id": 1, "name": "b"}]}, r"categories\[1\] repeats the category id 1"),
        ({**instances([]), "images": [{"id": 1, "file_name": "a.jpg"}]}, r"images\[0\] needs an integer 'id'"),
        (instances([annotation(8, 5, 3, (1, 1, 5, 5))]), "annotation id 8 refers to image_id 5, which is not in 'images'"),
        (instances([{**annotation(9, 1, 3, (1, 1, 5, 5)), "category_id": "3"}]), r"annotations\[0\] needs integer 'id'"),
        (instances([annotation(4, 1, 3, (1, 1, 5, 5)), annotation(4, 2, 3, (1, 1, 5, 5))]), r"annotations\[1\] repeats the id 4"),
    ],
)
def test_malformed_annotation_files_name_the_file_and_the_entry(tmp_path, data, message):
    path = write_dataset(tmp_path, "val", [])
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    with pytest.raises(COCOFormatError, match=re.escape(str(path)) + ".*" + message) as error:
        COCODetection(tmp_path, "val")
    assert isinstance(error.value, ConfigError)


def test_a_missing_annotation_file_is_named(val):
    with pytest.raises(COCOFormatError, match=r"instances_test\.json does not exist"):
        COCODetection(val, "test")


def test_missing_corrupt_and_wrongly_sized_images_are_named(val):
    (val / "val" / "000000000001.jpg").unlink()
    (val / "val" / "000000000002.jpg").write_bytes(b"not a jpeg")
    dataset = COCODetection(val, "val")
    with pytest.raises(ImageReadError, match=r"000000000001\.jpg does not exist.*\(image_id 1 of .*instances_val\.json\)"):
        dataset[0]
    with pytest.raises(ImageReadError, match=r"000000000002\.jpg could not be decoded.*\(image_id 2 of "):
        dataset[1]
    cv2.imwrite(str(val / "val" / "000000000003.jpg"), np.zeros((10, 20, 3), dtype=np.uint8))
    with pytest.raises(COCOFormatError, match=r"image_id 3 declares 64x48 pixels but .*000000000003\.jpg is 20x10"):
        dataset[2]


def test_plain_split_names_fall_back_to_2017_and_paths_can_be_given(tmp_path):
    write_dataset(tmp_path, "train2017", good_annotations())
    dataset = COCODetection(tmp_path, "train")
    assert dataset.split == "train2017" and dataset.image_dir == tmp_path / "train2017" and dataset.skip_empty
    assert dataset.annotation_file.name == "instances_train2017.json" and len(dataset) == 2
    path = write_dataset(tmp_path / "elsewhere", "images", good_annotations())
    dataset = COCODetection(tmp_path, "anything", annotation_file=path, image_dir=tmp_path / "elsewhere" / "images")
    assert dataset.annotation_file == path and dataset[0][0].shape == (HEIGHT, WIDTH, 3) and len(dataset) == 3


def test_a_file_that_gives_no_images_is_named(tmp_path):
    path = write_dataset(tmp_path, "train", [annotation(1, 1, 99, (1, 1, 10, 10))])
    with pytest.raises(ConfigError, match=re.escape(f"{path} gives no images: 0 images, 0 annotations, 3 classes; "
                                                    "3 images without annotations dropped; skipped 1 with a category_id")), \
            pytest.warns(SkippedAnnotationsWarning):
        COCODetection(tmp_path, "train")
