"""The README's measured figures, generated from the committed result files in ``benchmarks/results/``.

Each figure block of README.md lies between ``<!-- figures:NAME -->`` and
``<!-- /figures:NAME -->`` and is rewritten from ``results/NAME.json``, with the
machine it was measured on. ``make readme-figures`` rewrites them; ``--check``
(run by the test suite) fails when the README and the result files disagree.

    python benchmarks/_readme_figures.py [--check]
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
README = HERE.parent / "README.md"
FLAG_NAMES = {"avx2": "AVX2", "avx512f": "AVX-512", "avx512_vnni": "AVX-512 VNNI", "avx_vnni": "AVX-VNNI",
              "avx512_bf16": "AVX-512 BF16", "amx_tile": "AMX", "amx_int8": "AMX-INT8", "amx_bf16": "AMX-BF16"}


def markdown_table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def provenance(report: dict[str, Any], command: str, timed: bool = True) -> str:
    """The line under every figure: when, on which CPU and instruction sets, how many threads, by which command (and how many runs)."""
    machine = report["machine"]
    flags = ", ".join(FLAG_NAMES[f] for f in machine["cpu_flags"] if f in FLAG_NAMES and f not in ("amx_int8", "amx_bf16"))
    family, model = machine.get("cpu_family_model") or (None, None)
    generation = f"family {family}, model {model}; " if family else ""
    runs = f", medians of {report.get('runs', 'several')} runs unless noted" if timed else ""
    return (f"*{machine['cpu']} ({generation}{flags or 'no AVX2'}), {machine['cores']} cores, "
            f"OMP_NUM_THREADS={machine['omp_num_threads']}, "
            f"{machine['date'][:10]}: `{command}`{runs} "
            f"(`benchmarks/results/{report['benchmark']}.json`).*")


def backbones(report: dict[str, Any]) -> str:
    rows = [[r["model"], r["batch_size"], f"{r['paths']['hybridize()']['median']:.1f}", f"{r['paths']['cvcore default']['median']:.1f}",
             f"{r['speedup']:.2f}x", f"{r['gflop_per_image']:.2f}", f"{r['share_of_matmul_peak']:.0%}"] for r in report["results"]]
    size = report["results"][0]["size"] if report["results"] else 224
    return "\n\n".join([
        f"FP32 inference at {size}x{size}, img/s: plain `hybridize()` against cvcore's default path "
        f"(static memory and shapes, conv+BN+ReLU fused by oneDNN); the share of the machine's FP32 peak "
        f"({report['matmul_peak_gflops']:.0f} GFLOP/s, a 4096x4096 dense layer) the default path reaches.",
        markdown_table(["model", "batch", "hybridize() img/s", "cvcore default img/s", "speedup", "GFLOP/img", "of FP32 peak"], rows),
        provenance(report, "python benchmarks/backbones.py"),
    ])


def data_classification(report: dict[str, Any]) -> str:
    rows = [[s["input"], f"{s['source']}x{s['source']}", path, f"{rate:,.0f}"]
            for s in report["settings"] for path, rate in s["samples_per_second"].items()]
    return "\n\n".join([
        "The classification training transform (random resized crop, flip, colour jitter, lighting, normalize), samples/s:",
        markdown_table(["input", "source JPEG", "path", "samples/s"], rows),
        provenance(report, "python benchmarks/data_classification.py"),
    ])


def int8(report: dict[str, Any]) -> str:
    paths = ["MXNet FP32", "MXNet INT8", "OpenVINO FP32", "OpenVINO INT8"]
    rows = []
    with_accuracy = any(r.get("accuracy") for r in report["results"].values())
    for name, r in report["results"].items():
        base = r["img_s"]["MXNet FP32"]
        row = [name, r["batch_size"], "x".join(map(str, r["input"]))]
        row += [f"{r['img_s'][p]:.1f}" + ("" if p == "MXNet FP32" else f" ({r['img_s'][p] / base:.2f}x)") for p in paths]
        if with_accuracy:
            scores = r.get("accuracy")
            row.append(" / ".join(f"{scores[p]:.1f}" for p in ("MXNet FP32", "MXNet INT8", "OpenVINO INT8")) if scores else "n/a")
        rows.append(row)
    headers = ["model", "batch", "input", *paths] + (["accuracy FP32 / MXNet INT8 / OpenVINO INT8"] if with_accuracy else [])
    text = [f"Inference img/s, with the speedup over MXNet FP32 (cvcore's default path); INT8 support of this CPU: "
            f"{report['int8_support']}.", markdown_table(headers, rows)]
    if not with_accuracy:
        text.append("Speed only (`--speed-only`: untrained weights, so no accuracy column).")
    text += ["Verdicts against the goals:\n\n" + "\n".join(f"- {line.strip()}" for line in report["verdicts"] if line.strip()),
             provenance(report, COMMANDS.get(report["benchmark"], "python benchmarks/int8.py")
                        + ("" if with_accuracy else " --speed-only"))]
    return "\n\n".join(text)


def pose(report: dict[str, Any]) -> str:
    rows = [[r["section"], r["input"], r["batch"], r["what"], r["value"]] for r in report["rows"]]
    text = ["simple_pose_resnet50_v1b unless noted; data rows are samples/s of the training input pipeline, train rows "
            "samples/s of whole training steps, inference rows img/s, eval rows seconds.",
            markdown_table(["section", "input", "batch", "what", "samples/s, img/s or s"], rows)]
    curve = report.get("learning_curve")
    if curve:
        points = [[p["epoch"], f"{p['minutes']:.1f}", f"{p['val_AP']:.3f}"] for p in curve["curve"]]
        text += ["Learning curve (`--learning-curve`: simple_pose_resnet18_v1b from scratch, "
                 f"{curve['recipe']['train_images']:,} synthetic images, {curve['recipe']['epochs']} epochs):",
                 markdown_table(["epoch", "training minutes", "val OKS AP"], points)]
    text.append(provenance(report, "python benchmarks/pose.py" + (" --learning-curve" if curve else "")))
    return "\n\n".join(text)


def prune(report: dict[str, Any]) -> str:
    found = report["speed"]
    rows = found["rows"]
    base = next(r["img_s"] for r in rows if r["path"] == "FP32")
    table_rows = [[r["model"], r["path"], f"{r['params'] / 1e6:.1f}", f"{r['macs'] / 1e9:.2f}", f"{r['img_s']:.1f}",
                   f"{r['img_s'] / base:.2f}x"] for r in rows]
    text = [f"Inference img/s at {found['size']}x{found['size']}, batch {found['batch_size']}, against resnet50_v1d on cvcore's default "
            "FP32 path; GluonCV's pruned widths, and a resnet50_v1d that `cvcore_prune.prune` cut to the multiply-adds of _0.37 "
            "(random weights: speed does not depend on them).",
            markdown_table(["model", "path", "params (M)", "GMACs", "img/s", "vs resnet50_v1d FP32"], table_rows)]
    accuracy = report.get("accuracy")
    if accuracy:
        text += ["What pruning to half the multiply-adds keeps, on the demos' models trained by their demos' recipes "
                 "(synthetic data; fine-tuned for a quarter of the original training):",
                 markdown_table(["task", "model", "metric", "trained", "pruned (one-shot)", "fine-tuned", "MACs kept (backbone, head)",
                                 "fine-tuning"],
                                [[task, r["model"], r["metric"], f"{r['trained']:.3f}", f"{r['pruned']:.3f}", f"{r['fine_tuned']:.3f}",
                                  f"{r['macs_ratio']:.2f} ({r['backbone_macs_ratio']:.2f}, {r['head_macs_ratio']:.2f})", r["fine_tune"]]
                                 for task, r in accuracy.items()])]
    text += ["Verdicts against the goals:\n\n" + "\n".join(f"- {line.strip()}" for line in report["verdicts"] if line.strip()),
             provenance(report, "python benchmarks/prune.py" + (" --accuracy" if accuracy else ""))]
    return "\n\n".join(text)


def demos(report: dict[str, Any]) -> str:
    text = []
    found = report["results"]
    if "pose" in found:
        demo = found["pose"]
        recipe = demo["recipe"]
        curve = [[p["epoch"], f"{p['minutes']:.1f}", f"{p['samples_per_sec']:.0f}", f"{p['val_AP']:.3f}"] for p in demo["curve"]]
        final, no_flip = demo["final"], demo["final_no_flip"]
        text += [f"`cvcore demo` (the pose demo): {recipe['model']} from scratch at {recipe['input_size'][0]}x{recipe['input_size'][1]}, "
                 f"{recipe['train_images']:,} synthetic training images, {recipe['epochs']} epochs:",
                 markdown_table(["epoch", "training minutes", "samples/s", "val OKS AP"], curve),
                 markdown_table(["OKS metric (val)", "flip test", "no flip"],
                                [[name, f"{final[name]:.3f}", f"{no_flip[name]:.3f}"] for name in ("AP", "AP50", "AP75", "AR")])]
        if demo.get("int8"):
            text.append(markdown_table(["path", "val AP (flip)", "speed over FP32"],
                                       [["FP32 (cvcore default)", f"{final['AP']:.3f}", "1.00x"]]
                                       + [[f"INT8 ({r['backend']})", f"{r['AP']:.3f}", f"{r['speedup']:.2f}x"] for r in demo["int8"]]))
    if "classification" in found:
        demo = found["classification"]
        curve = [[p["epoch"], f"{p['minutes']:.1f}", f"{p['val_top1']:.3f}"] for p in demo["curve"]]
        text += [f"`cvcore demo --task classification`: {demo['recipe']['model']} from scratch on the synthetic shapes "
                 f"({demo['recipe']['classes']} classes, {demo['recipe']['size']}x{demo['recipe']['size']}):",
                 markdown_table(["epoch", "training minutes", "val top-1"], curve)]
    text.append(provenance(report, "python benchmarks/demos.py"))
    return "\n\n".join(text)


def rcnn(report: dict[str, Any]) -> str:
    speed = report["speed"]
    fp32 = {r["model"]: r.get("s_img") for r in speed["rows"] if r["path"] == "FP32 (cvcore default)"}
    rows = [[r["model"], r["path"], r["score_threshold"],
             f"{r['s_img']:.3f}" if "s_img" in r else f"fails: {r['error'][:90]}",
             f"{r['s_img'] / fp32[r['model']]:.2f}x" if "s_img" in r and fp32.get(r["model"]) else "-"] for r in speed["rows"]]
    rows += [[peer["model"], f"{peer['peer']} (the issue's figure, not measured here)", "-", f"{peer['s_img']:.2f}", "-"]
             for peer in report["peers"]]
    text = [f"Seconds per {speed['size']}x{speed['size']} image, batch {speed['batch_size']}, of faster_rcnn_fpn_resnet50_v1b_coco and "
            "mask_rcnn_fpn_resnet50_v1b_coco on each deploy path (random weights; the score threshold bounds post-processing):",
            markdown_table(["model", "path", "score threshold", "s/img", "vs FP32"], rows)]
    text += ["Verdicts against the goals (the peers' times: a 2-core AVX-512 EPYC, 2 threads):\n\n"
             + "\n".join(f"- {line.strip()}" for line in report["verdicts"] if line.strip()),
             provenance(report, "python benchmarks/rcnn.py")]
    return "\n\n".join(text)


def rcnn_training(report: dict[str, Any]) -> str:
    curve = [[kind, p["epoch"], f"{p['minutes']:.1f}", f"{p['AP']:.3f}", f"{p['segm_AP']:.3f}" if "segm_AP" in p else "-"]
             for kind, result in report["accuracy"].items() for p in result["curve"]]
    data = report["data"]
    return "\n\n".join([
        f"Faster and Mask R-CNN FPN on {report['backbone']} with a {report['neck']['channels']}-channel pyramid, trained from scratch "
        f"for {report['minutes']:g} minutes each on "
        f"synthetic shapes ({data['train']} training, {data['val']} val images at {data['size'][0]}x{data['size'][1]}), "
        "COCO AP on val after every epoch:",
        markdown_table(["model", "epoch", "minutes", "bbox AP", "segm AP"], curve),
        "Verdicts against the goals:\n\n" + "\n".join(f"- {line.strip()}" for line in report["verdicts"] if line.strip()),
        provenance(report, COMMANDS["rcnn_training"], timed=False)])


def ssd(report: dict[str, Any]) -> str:
    training, data = report["training"], report["data"]
    every = report["fit"].get("val_every", 1)
    points = _thinned(training["curve"], 12)
    curve = [[p["epoch"], f"{p['minutes']:.1f}", f"{p['mAP']:.3f}"] for p in points]
    shown = "" if len(points) == len(training["curve"]) else f" ({len(points)} of its {len(training['curve'])} points)"
    return "\n\n".join([
        f"An SSD of {report['model']}'s parts at {report['size']}x{report['size']}{_on_backbone(report)}, trained from scratch for "
        f"{report['minutes']:g} minutes on the synthetic VOC set ({data['train']} training, {data['val']} val images), VOC07 mAP on "
        f"val after every {'epoch' if every == 1 else f'{every} epochs'}{shown}:",
        markdown_table(["epoch", "minutes", "VOC07 mAP"], curve),
        "Verdict against the goal:\n\n" + "\n".join(f"- {line.strip()}" for line in report["verdicts"]),
        provenance(report, "python benchmarks/ssd.py", timed=False)])


def gan(report: dict[str, Any]) -> str:
    sr, cycle = report["srgan"], report["cyclegan"]
    stages = [["bicubic", "-", f"{sr['bicubic']['psnr']:.2f}", f"{sr['bicubic']['ssim']:.3f}"]]
    for label, point in (("after the content (MSE) stage", sr["content_stage"]), ("after the GAN stage", sr["gan_stage"])):
        if point:
            stages.append([f"generator {label}, epoch {point['epoch']}", f"{point['minutes']:.1f}", f"{point['psnr']:.2f}",
                           f"{point['ssim']:.3f}"])
    errors = [["untrained generator", "-", f"{cycle['untrained']['mae']:.1f}"],
              ["input A given back unchanged", "-", f"{cycle['unchanged_input']['mae']:.1f}"]]
    errors += [[f"epoch {p['epoch']}", f"{p['minutes']:.1f}", f"{p['mae']:.1f}"] for p in _thinned(cycle["curve"], 8)]
    speed = [[name, "x".join(map(str, result["input_shape"][2:])), path, f"{rate['median']:.2f}",
              f"{rate['median'] / next(iter(result['paths'].values()))['median']:.2f}x"]
             for name, result in report["speed"].items() for path, rate in result["paths"].items()]
    generator = report["cycle_options"]["generator"]
    return "\n\n".join([
        f"SRGAN 4x (`srgan_4x`{' with `bicubic_skip`' if report['sr_options'].get('generator', {}).get('bicubic_skip') else ''}, "
        f"pixel-MSE content loss: no VGG19 weights offline) trained for {report['sr_minutes']:g} minutes on the "
        f"synthetic SR set ({sr['train_images']} HR images, {report['sr_options']['crop']}-pixel crops; {sr['pretrain_epochs']} of "
        f"{sr['plan']['epochs']} epochs content-only), PSNR / SSIM on Y of the {sr['val_images']} val images:",
        markdown_table(["", "minutes", "PSNR (dB)", "SSIM"], stages),
        f"CycleGAN (`cyclegan_resnet6_128`'s recipe at {report['cycle_options']['crop']} pixels, {generator['blocks']} blocks of "
        f"{generator['channels']} base channels, identity weight {report['cycle_options'].get('identity_weight', 0.5):g}: see "
        f"[docs/gan.md](docs/gan.md)) trained for {report['cycle_minutes']:g} minutes on the synthetic unpaired set "
        f"({cycle['train_images']} images a domain); mean absolute error (0..255) of A->B against the true B of the "
        f"{cycle['val_images']} test scenes:",
        markdown_table(["", "minutes", "A->B error"], errors),
        "Generator inference, batch 1, img/s (random weights: speed only):",
        markdown_table(["generator", "input", "path", "img/s", "vs default"], speed),
        "Verdicts against the goals:\n\n" + "\n".join(f"- {line.strip()}" for line in report["verdicts"]),
        provenance(report, "python benchmarks/gan.py")])


def _thinned(points: list[Any], most: int) -> list[Any]:
    """At most ``most`` of ``points``, evenly spaced, the first and the last kept."""
    if len(points) <= most:
        return points
    return [points[round(i * (len(points) - 1) / (most - 1))] for i in range(most)]


def _on_backbone(report: dict[str, Any]) -> str:
    """The words ' on BACKBONE (maps from its STAGES stages)' where the report names a backbone other than the model's own."""
    backbone = report.get("backbone")
    if not backbone:
        return ""
    stages = backbone.get("out_features")
    return f" on {backbone['name']}" + (f" (maps from its {' and '.join(stages)} stages)" if stages else "")


COMMANDS = {"rcnn_training": "python benchmarks/rcnn.py --accuracy --no-speed",
            "int8_ssd": "python benchmarks/int8.py --models ssd_300_vgg16_atrous_voc ssd_512_vgg16_atrous_voc "
                        "ssd_512_resnet50_v1_voc ssd_512_mobilenet1.0_voc --json benchmarks/results/int8_ssd.json"}
"""The command that writes a result file, where it is not ``python benchmarks/NAME.py``."""
SECTIONS: dict[str, Callable[[dict[str, Any]], str]] = {
    "demos": demos, "backbones": backbones, "data_classification": data_classification, "int8": int8, "pose": pose, "prune": prune,
    "rcnn": rcnn, "rcnn_training": rcnn_training, "ssd": ssd, "int8_ssd": int8, "gan": gan,
}


def render(name: str, results: Path = RESULTS) -> str:
    path = results / f"{name}.json"
    if not path.is_file():
        return f"*Not measured yet: `{COMMANDS.get(name, f'python benchmarks/{name}.py')}` writes `benchmarks/results/{name}.json`.*"
    return SECTIONS[name](json.loads(path.read_text()))


def rewrite(readme: str, results: Path = RESULTS) -> str:
    """``readme`` with every figure block regenerated from ``results``."""
    def block(match: re.Match) -> str:
        name = match.group(1)
        if name not in SECTIONS:
            raise SystemExit(f"README names an unknown figure block {name!r}; known: {', '.join(SECTIONS)}")
        return f"<!-- figures:{name} -->\n{render(name, results)}\n<!-- /figures:{name} -->"

    return re.sub(r"<!-- figures:(\w+) -->.*?<!-- /figures:\1 -->", block, readme, flags=re.S)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the README differs from what the results give")
    args = parser.parse_args(argv)
    current = README.read_text()
    wanted = rewrite(current)
    if args.check:
        if current != wanted:
            print("README.md's figures differ from benchmarks/results/: run `make readme-figures`.", file=sys.stderr)
            return 1
        return 0
    README.write_text(wanted)
    print(f"rewrote the figure blocks of {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
