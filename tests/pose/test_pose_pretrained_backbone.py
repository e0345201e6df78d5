"""A pose pipeline starts from an ImageNet classifier's backbone, as Simple Baselines' training does."""
from __future__ import annotations

import numpy as np
from test_pretrained_backbone import backbone_values, gluoncv_classifier_file

from cvcore.pipeline import Pipeline


def test_a_gluoncv_classifier_file_initializes_a_pose_backbone(tmp_path):
    arrays = gluoncv_classifier_file(tmp_path / "resnet18_v1b.params")
    pipeline = Pipeline(task="pose", backbone={"name": "resnet18_v1b", "pretrained": str(tmp_path / "resnet18_v1b.params")},
                        input_shape=[1, 3, 64, 64])
    for name, value in backbone_values(pipeline).items():
        np.testing.assert_array_equal(value, arrays[name])
    assert pipeline.net(pipeline.example(1)).shape == (1, 17, 16, 16)
