"""ONNX forms of MXNet operators that keep their meaning and that OpenVINO compiles, in place of MXNet 1.9's own.

``box_nms``: MXNet's converter runs one class-agnostic NonMaxSuppression over
all rows, however ``id_index`` and ``force_suppress`` ask, and reads ``topk`` as
ONNX's cap on *selected* boxes. The operator keeps the ``topk`` best rows
*before* suppression and, with an ``id_index`` and ``force_suppress=False``,
suppresses only within a class: a per-class detector exported with the stock
converter loses boxes that overlap a box of another class. This form keeps the
``topk`` best rows by score; moves each class's boxes apart by a multiple of the
boxes' extent, so boxes of different classes never overlap (one
NonMaxSuppression then acts per class); and returns the kept rows in descending
score order, the rest of the output ``-1``.

``slice_like``: MXNet's converter computes the slice's ends with a ScatterND
over shape tensors, which OpenVINO's CPU plugin cannot compile ("Can not create
StaticMemory object", SSD's default boxes cut to a feature map's size). This
form gathers the ends from the reference's shape.
"""
from __future__ import annotations

from typing import Any

import numpy as np


def convert_box_nms(node: dict[str, Any], **kwargs: Any) -> list[Any]:
    """ONNX nodes for one ``_contrib_box_nms`` node (MXNet's converter signature; the output is ``<name>0``)."""
    from mxnet.onnx.mx2onnx._op_translations._op_translations_opset12 import get_inputs
    from onnx import TensorProto, numpy_helper
    from onnx.helper import make_node, make_tensor

    name, (data,), attrs = get_inputs(node, kwargs)
    overlap = float(attrs.get("overlap_thresh", "0.5"))
    valid = float(attrs.get("valid_thresh", "0"))
    topk = int(attrs.get("topk", "-1"))
    coord, score, class_id = int(attrs.get("coord_start", "2")), int(attrs.get("score_index", "1")), int(attrs.get("id_index", "-1"))
    per_class = class_id >= 0 and attrs.get("force_suppress", "False") in ("False", "0", "false")
    centered = attrs.get("in_format", "corner") == "center"
    if attrs.get("in_format", "corner") != attrs.get("out_format", "corner"):
        raise NotImplementedError(f"box_nms {name}: in_format {attrs.get('in_format')!r} differs from out_format "
                                  f"{attrs.get('out_format')!r}, which has no ONNX form here")
    if int(attrs.get("background_id", "-1")) != -1:
        raise NotImplementedError(f"box_nms {name}: background_id has no ONNX form here")

    def const(label: str, values: Any, dtype: str = "int64") -> str:
        """An initializer ``<name>_<label>`` holding ``values`` (a list, or a scalar for a 0-d tensor)."""
        kwargs["initializer"].append(numpy_helper.from_array(np.array(values, dtype=dtype), out(label)))
        return out(label)

    def out(label: str) -> str:
        return f"{name}_{label}"

    rank2 = const("rank2", [2])
    nodes = [
        # rows (B, M, W) of any leading shape, and each row's score (B, M)
        make_node("Shape", [data], [out("shape")]),
        make_node("Shape", [out("shape")], [out("rank")]),
        make_node("Sub", [out("rank"), rank2], [out("rank_m2")]),
        make_node("Slice", [out("shape"), out("rank_m2"), out("rank")], [out("last2")]),
        make_node("Concat", [const("m1", [-1]), out("last2")], [out("shape3")], axis=0),
        make_node("Reshape", [data, out("shape3")], [out("rows")]),
        make_node("Slice", [out("rows"), const("si", [score]), const("si1", [score + 1]), const("ax2", [2])], [out("score3")]),
        make_node("Reshape", [out("score3"), const("flat", [0, -1])], [out("scores")]),
        # the topk best rows, best first
        make_node("Slice", [out("last2"), const("zero", [0]), const("one", [1])], [out("count")]),
        make_node("Min", [out("count"), const("topk", [topk if topk > 0 else 2**62])], [out("k")]),
        make_node("TopK", [out("scores"), out("k")], [out("best"), out("best_at")], axis=1, largest=1, sorted=1),
        make_node("Unsqueeze", [out("best_at"), const("ax2b", [2])], [out("best_at3")]),
        make_node("GatherND", [out("rows"), out("best_at3")], [out("cand")], batch_dims=1),
        make_node("Slice", [out("cand"), const("cs", [coord]), const("cs4", [coord + 4]), const("ax2c", [2])], [out("boxes")]),
    ]
    nms_boxes = out("boxes")
    if per_class:  # class c's boxes moved by c extents: no box overlaps another class's
        shift = [1.0, 1.0, 0.0, 0.0] if centered else [1.0, 1.0, 1.0, 1.0]
        nodes += [
            make_node("Slice", [out("cand"), const("id", [class_id]), const("id1", [class_id + 1]), const("ax2d", [2])], [out("ids")]),
            make_node("ReduceMax", [out("boxes")], [out("hi")], keepdims=0),
            make_node("ReduceMin", [out("boxes")], [out("lo")], keepdims=0),
            make_node("Sub", [out("hi"), out("lo")], [out("extent0")]),
            make_node("Add", [out("extent0"), const("one_f", 1.0, dtype="float32")], [out("extent")]),
            make_node("Mul", [out("ids"), out("extent")], [out("offset1")]),
            make_node("Mul", [out("offset1"), const("shift", shift, dtype="float32")], [out("offset")]),
            make_node("Add", [out("boxes"), out("offset")], [out("moved")]),
        ]
        nms_boxes = out("moved")
    nodes += [
        make_node("Unsqueeze", [out("best"), const("ax1", [1])], [out("nms_scores")]),
        make_node("NonMaxSuppression", [nms_boxes, out("nms_scores"), out("k"), const("iou", [overlap], dtype="float32"),
                                        const("valid", [valid], dtype="float32")],
                  [out("selected")], center_point_box=int(centered)),
        # kept (B, k): 1 where selected; kept rows first in score order, then the rest as -1
        make_node("Gather", [out("selected"), const("batch_box", [0, 2])], [out("at")], axis=1),
        make_node("Shape", [out("best")], [out("best_shape")]),
        make_node("ConstantOfShape", [out("best_shape")], [out("zeros")], value=make_tensor("z", TensorProto.FLOAT, [1], [0.0])),
        make_node("Shape", [out("selected")], [out("sel_shape")]),
        make_node("Slice", [out("sel_shape"), const("zero2", [0]), const("one2", [1])], [out("selected_count")]),
        make_node("ConstantOfShape", [out("selected_count")], [out("ones")], value=make_tensor("o", TensorProto.FLOAT, [1], [1.0])),
        make_node("ScatterND", [out("zeros"), out("at"), out("ones")], [out("kept")]),
        make_node("Squeeze", [out("k"), const("ax0", [0])], [out("k0")]),
        make_node("Range", [const("zero_s", 0), out("k0"), const("one_s", 1)], [out("index")]),
        make_node("Cast", [out("index")], [out("index_f")], to=TensorProto.FLOAT),
        make_node("Cast", [out("k")], [out("k_f")], to=TensorProto.FLOAT),
        make_node("Mul", [out("kept"), out("k_f")], [out("lift")]),
        make_node("Sub", [out("index_f"), out("lift")], [out("key")]),
        make_node("TopK", [out("key"), out("k")], [out("_"), out("order")], axis=1, largest=0, sorted=1),
        make_node("Unsqueeze", [out("order"), const("ax2e", [2])], [out("order3")]),
        make_node("GatherND", [out("cand"), out("order3")], [out("ordered")], batch_dims=1),
        make_node("GatherElements", [out("kept"), out("order")], [out("kept_sorted")], axis=1),
        make_node("Unsqueeze", [out("kept_sorted"), const("ax2f", [2])], [out("kept3")]),
        make_node("Cast", [out("kept3")], [out("kept_b")], to=TensorProto.BOOL),
        make_node("Where", [out("kept_b"), out("ordered"), const("m1_f", [-1.0], dtype="float32")], [out("result_k")]),
        # padded back to all M rows with -1
        make_node("Sub", [out("count"), out("k")], [out("rest")]),
        make_node("Concat", [const("pad_head", [0, 0, 0, 0]), out("rest"), const("pad_tail", [0])], [out("pads")], axis=0),
        make_node("Pad", [out("result_k"), out("pads"), const("m1_pad", -1.0, dtype="float32")], [out("padded")]),
        make_node("Reshape", [out("padded"), out("shape")], [f"{name}0"]),
    ]
    return nodes


def convert_slice_like(node: dict[str, Any], **kwargs: Any) -> list[Any]:
    """ONNX nodes for one ``slice_like`` node: ``data`` cut from 0 to the reference's size on ``axes`` (all when empty)."""
    from mxnet.onnx.mx2onnx._op_translations._op_translations_opset12 import get_inputs
    from onnx import TensorProto, numpy_helper
    from onnx.helper import make_node, make_tensor

    name, (data, reference), attrs = get_inputs(node, kwargs)
    axes = [int(axis) for axis in attrs.get("axes", "()").strip("()[] ").replace(" ", "").split(",") if axis]
    nodes = [make_node("Shape", [reference], [f"{name}_reference_shape"])]
    if not axes:  # every axis of the reference
        nodes += [make_node("Shape", [f"{name}_reference_shape"], [f"{name}_rank"]),
                  make_node("ConstantOfShape", [f"{name}_rank"], [f"{name}_starts"],
                            value=make_tensor(f"{name}_zero", TensorProto.INT64, [1], [0])),
                  make_node("Slice", [data, f"{name}_starts", f"{name}_reference_shape"], [name])]
        return nodes
    for label, values in (("axes", axes), ("starts", [0] * len(axes))):
        kwargs["initializer"].append(numpy_helper.from_array(np.array(values, dtype=np.int64), f"{name}_{label}"))
    return nodes + [make_node("Gather", [f"{name}_reference_shape", f"{name}_axes"], [f"{name}_ends"], axis=0),
                    make_node("Slice", [data, f"{name}_starts", f"{name}_ends", f"{name}_axes"], [name])]


CONVERTERS = {"_contrib_box_nms": convert_box_nms, "slice_like": convert_slice_like}
"""MXNet operator -> the converter used in place of MXNet's."""
