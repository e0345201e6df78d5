"""COCO keypoint results and OKS AP through pycocotools, on a tiny ground truth written here."""
from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from pycocotools.coco import COCO

from cvcore_pose.evaluation import STAT_NAMES, coco_keypoint_ap, keypoint_results
from cvcore_pose.keypoints import NUM_JOINTS, coco_category

# (image id, box x, y, w, h): large (area > 96^2) and medium (32^2 .. 96^2) people
PEOPLE = [(1, 20, 30, 120, 240), (1, 200, 40, 60, 120), (2, 50, 50, 150, 300), (3, 10, 10, 40, 80), (3, 100, 20, 110, 220)]


@pytest.fixture
def coco_gt(tmp_path):
    rng = np.random.default_rng(0)
    annotations = []
    for index, (image_id, x, y, w, h) in enumerate(PEOPLE):
        points = rng.uniform([x, y], [x + w, y + h], size=(NUM_JOINTS, 2))
        visible = np.full(NUM_JOINTS, 2)
        visible[rng.choice(NUM_JOINTS, 3, replace=False)] = 0  # unlabelled joints
        keypoints = np.concatenate([points, visible[:, None]], axis=1)
        keypoints[visible == 0] = 0
        annotations.append({
            "id": index + 1, "image_id": image_id, "category_id": 1, "iscrowd": 0,
            "bbox": [x, y, w, h], "area": float(w * h),
            "keypoints": [round(float(v), 2) for v in keypoints.reshape(-1)], "num_keypoints": int((visible > 0).sum()),
        })
    images = [{"id": i, "file_name": f"{i}.jpg", "width": 320, "height": 360} for i in (1, 2, 3)]
    path = tmp_path / "person_keypoints.json"
    path.write_text(json.dumps({"images": images, "annotations": annotations, "categories": [coco_category()]}))
    return COCO(str(path))


def results_from_gt(coco, noise=0.0, seed=1):
    """Results with the ground truth's keypoints (plus Gaussian ``noise`` in pixels), through keypoint_results."""
    rng = np.random.default_rng(seed)
    anns = coco.loadAnns(coco.getAnnIds())
    coords = np.array([np.reshape(a["keypoints"], (NUM_JOINTS, 3))[:, :2] for a in anns])
    coords = coords + rng.normal(0, noise, coords.shape) if noise else coords
    maxvals = np.full(coords.shape[:2], 0.9)
    return keypoint_results([np.int64(a["image_id"]) for a in anns], coords, maxvals, np.ones(len(anns)))


def test_keypoint_results_are_in_cocos_format():
    coords = np.arange(2 * NUM_JOINTS * 2, dtype=np.float32).reshape(2, NUM_JOINTS, 2)
    maxvals = np.full((2, NUM_JOINTS), 0.5, dtype=np.float32)
    results = keypoint_results(np.array([7, 9]), coords, maxvals, np.array([0.25, 0.75], dtype=np.float32))
    assert [sorted(r) for r in results] == [["category_id", "image_id", "keypoints", "score"]] * 2
    assert results[0]["image_id"] == 7 and type(results[0]["image_id"]) is int and results[1]["category_id"] == 1
    assert results[1]["score"] == 0.75 and all(type(v) is float for v in results[1]["keypoints"])
    assert results[0]["keypoints"][:6] == [0.0, 1.0, 0.5, 2.0, 3.0, 0.5] and len(results[0]["keypoints"]) == 3 * NUM_JOINTS
    json.dumps(results)
    with pytest.raises(ValueError, match="coords"):
        keypoint_results([1], coords, maxvals, [1.0])


def test_perfect_keypoints_score_one_and_perturbed_ones_less(coco_gt, tmp_path, capsys):
    capsys.readouterr()
    perfect = results_from_gt(coco_gt)
    kept = json.loads(json.dumps(perfect))
    scores = coco_keypoint_ap(coco_gt, perfect, results_file=tmp_path / "out" / "results.json")
    assert list(scores) == list(STAT_NAMES) == ["AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl"]
    assert all(scores[name] == pytest.approx(1.0) for name in STAT_NAMES), scores
    assert "Average Precision" in scores.summary and capsys.readouterr().out == ""  # pycocotools' chatter is kept, not printed
    assert perfect == kept  # the results were not changed by pycocotools
    assert json.loads((tmp_path / "out" / "results.json").read_text()) == perfect
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["results.json"]

    perturbed = coco_keypoint_ap(coco_gt, results_from_gt(coco_gt, noise=6.0))
    assert 0.0 <= perturbed["AP"] < 0.95 and perturbed["AP75"] < 1.0 and perturbed["AR"] < 1.0
    worse = coco_keypoint_ap(coco_gt, results_from_gt(coco_gt, noise=20.0))
    assert worse["AP"] < perturbed["AP"]


def test_image_ids_restrict_the_evaluation(coco_gt):
    only_image_3 = [r for r in results_from_gt(coco_gt) if r["image_id"] == 3]
    assert coco_keypoint_ap(coco_gt, only_image_3, image_ids=[np.int64(3)])["AP"] == pytest.approx(1.0)
    everywhere = coco_keypoint_ap(coco_gt, only_image_3)
    assert everywhere["AR"] == pytest.approx(2 / 5)  # the other images' people are missed


def test_empty_results_give_zeros_and_a_warning(coco_gt, tmp_path):
    with pytest.warns(RuntimeWarning, match="No keypoint results"):
        scores = coco_keypoint_ap(coco_gt, [], results_file=tmp_path / "results.json")
    assert scores == {name: 0.0 for name in STAT_NAMES}
    assert json.loads((tmp_path / "results.json").read_text()) == []


def test_the_summary_is_logged(coco_gt, caplog):
    with caplog.at_level(logging.INFO, logger="cvcore_pose.evaluation"):
        coco_keypoint_ap(coco_gt, results_from_gt(coco_gt))
    assert "Average Precision" in caplog.text
