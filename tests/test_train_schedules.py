"""Learning-rate schedules and the [train] options."""
from __future__ import annotations

import math

import pytest

import cvcore
from cvcore.train import LRSchedule, TrainConfig


def schedule(steps_per_epoch: int = 10, **options) -> LRSchedule:
    return LRSchedule.from_config(TrainConfig.from_options({"epochs": 10, "lr": 0.1, **options}), steps_per_epoch)


def test_step_schedule_decays_at_the_given_epochs():
    lr = schedule(lr_mode="step", lr_steps=[3, 6], lr_factor=0.1)
    assert [lr(s) for s in (0, 29, 30, 59, 60, 99)] == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001, 0.001])


def test_no_lr_steps_is_a_constant_rate():
    assert {schedule()(s) for s in range(100)} == {0.1}


def test_linear_warmup_from_warmup_lr_then_the_schedule():
    lr = schedule(lr_mode="step", lr_steps=[5], warmup_epochs=2, warmup_lr=0.02)
    assert lr.warmup_steps == 20
    assert lr(0) == pytest.approx(0.02)
    assert lr(10) == pytest.approx(0.06)  # half way: (0.02 + 0.1) / 2
    assert lr(19) == pytest.approx(0.02 + 0.08 * 19 / 20)
    assert lr(20) == pytest.approx(0.1) and lr(50) == pytest.approx(0.01)


def test_cosine_falls_from_lr_to_final_lr_after_warmup():
    lr = schedule(lr_mode="cosine", warmup_epochs=2, final_lr=0.001)
    assert lr(20) == pytest.approx(0.1)
    assert lr(60) == pytest.approx(0.001 + 0.099 * 0.5)  # half of the 80 post-warmup steps
    assert lr(40) == pytest.approx(0.001 + 0.099 * (1 + math.cos(math.pi / 4)) / 2)
    assert lr(100) == pytest.approx(0.001) and lr(500) == pytest.approx(0.001)


def test_poly_schedule():
    lr = schedule(lr_mode="poly", power=2.0)
    assert lr(0) == pytest.approx(0.1)
    assert lr(50) == pytest.approx(0.1 * 0.25)
    assert lr(75) == pytest.approx(0.1 * 0.0625)
    assert lr(100) == 0.0


def test_linear_holds_the_rate_then_falls_to_final_lr():
    """CycleGAN's schedule: constant, then a straight line to final_lr; by default the fall starts half-way."""
    half = schedule(lr_mode="linear")
    assert [half(s) for s in (0, 49, 50, 75, 100)] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.0])
    late = schedule(lr_mode="linear", lr_steps=[8], final_lr=0.02)
    assert [late(s) for s in (79, 80, 90, 100, 200)] == pytest.approx([0.1, 0.1, 0.06, 0.02, 0.02])


def test_a_schedule_is_a_pure_function_of_the_step():
    lr = schedule(lr_mode="cosine", warmup_epochs=1)
    first = [lr(s) for s in range(100)]
    assert [lr(s) for s in reversed(range(100))][::-1] == first


@pytest.mark.parametrize("option, message", [
    ({"lr_mod": "cosine"}, "did you mean 'lr_mode'"),
    ({"label_smoothing": 0.1}, r"\[loss\] name = \"softmax_cross_entropy\", label_smoothing = 0.1"),
    ({"target_lr": 0.0}, "it is called 'final_lr' here"),
    ({"lr_mode": "exp"}, "lr_mode = 'exp' is not one of step, poly, cosine"),
    ({"kvstore": "nccl2"}, "kvstore = 'nccl2' is not one of"),
    ({"hard_weight": 2}, "hard_weight must be in"),
    ({"epochs": 0}, "epochs must be positive"),
    ({"resume": True}, "set out_dir"),
    ({"warmup_epochs": 20}, "longer than training"),
])
def test_bad_options_name_the_fix(option, message):
    with pytest.raises(cvcore.ConfigError, match=message):
        schedule(**option)


def test_kvstore_none_is_spelled_none_in_toml():
    assert TrainConfig.from_options({"kvstore": "none"}).kvstore is None
