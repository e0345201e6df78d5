"""The ``cvcore`` command: one CLI, generic over tasks."""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from .errors import ConfigError, CvcoreError  # importing the cvcore package set MXNet's defaults
from .tables import plural, table, terminal_width


def parse_options(pairs: Sequence[str] | None) -> dict[str, Any]:
    """``["k=v", ...]`` -> dict, values read as TOML scalars when they parse (``3``, ``true``, ``[1, 2]``)."""
    import tomllib

    options: dict[str, Any] = {}
    for pair in pairs or ():
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"Option {pair!r} is not key=value.")
        try:
            options[key] = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            options[key] = text
    return options


# -- verbs ------------------------------------------------------------------------
def cmd_plugins(args: argparse.Namespace) -> int:
    from .plugins import host

    plugin_host = host()
    registry = plugin_host.registry
    infos = sorted(plugin_host.plugins.values(), key=lambda i: (i.name != "cvcore", i.name))
    if args.name:
        infos = [info for info in infos if args.name in (info.name, info.distribution)]
        if not infos:
            names = ", ".join(sorted(plugin_host.plugins))
            raise CvcoreError(f"No plugin named {args.name!r}; the plugins are: {names}.")
    width = terminal_width()
    if args.verbose or args.name:
        for info in infos:
            print(f"{info.name} ({info.distribution or '-'} {info.version or '-'}, {info.status})")
            provided = registry.provided_by(info.name) if info.status == "ok" else {}
            if info.status != "ok":
                print(textwrap.fill(info.error or "disabled by CVCORE_PLUGINS_DISABLE", width, initial_indent="  ",
                                    subsequent_indent="  "))
            for kind, names in provided.items():
                print(textwrap.fill(", ".join(names), width, initial_indent=f"  {kind}: ", subsequent_indent="    ",
                                    break_on_hyphens=False))
            if info.status == "ok" and not provided:
                print("  (nothing yet)")
    else:
        rows = []
        for info in infos:
            provided = registry.provided_by(info.name) if info.status == "ok" else {}
            what = ", ".join(plural(len(names), kind) for kind, names in provided.items())
            if info.status != "ok":
                what = info.error or "disabled by CVCORE_PLUGINS_DISABLE"
            rows.append((info.name, info.distribution or "-", info.version or "-", info.status, what or "(nothing yet)"))
        print(table(rows, ("plugin", "distribution", "version", "status", "registers"), width=width))
        print("(cvcore plugins -v, or cvcore plugins NAME, lists the names)")
    for kind, name in registry.conflicts:
        print(textwrap.fill(f"conflict: {registry.conflict_message(kind, name)}", width, subsequent_indent="  "))
    return 1 if registry.conflicts else 0


def cmd_models(args: argparse.Namespace) -> int:
    from .plugins import host

    rows = [
        (e.name, e.component.meta.get("task", "-"), e.plugin, e.component.summary)
        for e in host().registry.entries("model")
        if args.task is None or e.component.meta.get("task") == args.task
    ]
    if not rows:
        print(f"No models{' for task ' + repr(args.task) if args.task else ''} are registered.", file=sys.stderr)
        return 1
    print(table(rows, ("model", "task", "plugin", "description"), width=terminal_width(), last="cut"))
    return 0


def version_text() -> str:
    """The core's version and each installed plugin's, one per line."""
    from . import __version__
    from .plugins import host

    lines = [f"cvcore {__version__}"]
    for info in sorted(host().plugins.values(), key=lambda i: i.name):
        if info.name != "cvcore":
            lines.append(f"  {info.distribution or info.name} {info.version or '-'} ({info.status})")
    return "\n".join(lines)


def cmd_info(args: argparse.Namespace) -> int:
    from .plugins import host

    shape = parse_shape(args.shape) if args.shape else None
    registry = host().registry
    entries = [] if Path(args.name).suffix == ".toml" else registry.find(args.name)
    if not entries and (Path(args.name).suffix == ".toml" or Path(args.name).exists()):
        return describe_pipeline(args.name, shape)
    if not entries:
        registry.lookup_anywhere(args.name)  # raises with suggestions and install hints
    if shape is not None and not any(entry.kind == "model" for entry in entries):
        kinds = " and ".join(entry.kind for entry in entries)
        raise ConfigError(f"--shape applies to models and pipelines; {args.name!r} is a {kinds}: drop --shape.")
    for entry in entries:
        component = entry.component
        print(f"{entry.name}  ({entry.kind}, from plugin {entry.plugin})")
        if component.doc or component.factory.__doc__:
            print("  " + (component.doc or component.factory.__doc__).strip().replace("\n", "\n  "))
        if entry.kind != "model":
            for key, value in component.meta.items():
                if not callable(value):
                    print(f"  {key}: {value}")
        else:
            from .pipeline import Pipeline
            from .zoo import get_recipe

            recipe = get_recipe(entry.name)
            for key, value in recipe.config().items():
                print(f"  {key}: {value}")
            if recipe.deploy:
                steps = " -> ".join(step["transform"] for step in recipe.deploy)
                print(f"  profiled: the FP32 network of {recipe.base}, before {steps}")
            print_profile(Pipeline(**recipe.config(), initialize=False), shape)
    return 0


def describe_pipeline(target: str, shape: tuple[int, ...] | None) -> int:
    """``cvcore info`` of a saved pipeline folder or a ``.toml`` config: its configuration and what it costs."""
    from .pipeline import Pipeline

    pipeline = Pipeline.open(target)
    what = "pipeline config" if Path(target).suffix == ".toml" else "saved pipeline"
    print(f"{target}  ({what}, task {pipeline.task_name})")
    for key, value in pipeline.config().items():
        print(f"  {key}: {value}")
    print_profile(pipeline, shape)
    return 0


def print_profile(pipeline: Any, shape: tuple[int, ...] | None) -> None:
    """The profile lines of ``cvcore info``: input shape, parameters, GMACs and peak activation memory."""
    from .deploy.profile import profile

    found = profile(pipeline, shape)
    print(f"  input shape: {'x'.join(map(str, found.input_shape))}")
    print(f"  parameters: {scaled(found.trainable_params)} ({found.trainable_params:,} trainable, "
          f"{found.total_params:,} in all, BatchNorm running statistics included)")
    print(f"  multiply-adds: {three_figures(found.macs / 1e9)} GMACs per image")
    print(f"  peak activation memory: {three_figures(found.peak_activation_bytes / 1e6)} MB (float32, batch 1)")


def parse_shape(text: str) -> tuple[int, ...]:
    """``"1,3,224,224"`` -> ``(1, 3, 224, 224)``."""
    try:
        shape = tuple(int(size) for size in text.split(","))
    except ValueError:
        shape = ()
    if len(shape) != 4 or min(shape) < 1:
        raise ConfigError(f"--shape {text!r} must be four positive sizes N,C,H,W, e.g. --shape 1,3,224,224.")
    return shape


def three_figures(value: float) -> str:
    """``value`` to three significant figures, without an exponent: 4.09, 25.6, 1,235, 0.00131."""
    if value <= 0:
        return "0"
    return f"{value:,.{max(0, 2 - math.floor(math.log10(value)))}f}"


def scaled(count: int) -> str:
    """A count with a k/M/G prefix: ``25557032`` -> ``"25.6 M"``."""
    for factor, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if count >= factor:
            return f"{three_figures(count / factor)} {prefix}"
    return str(count)


def cmd_train(args: argparse.Namespace) -> int:
    import logging

    from .files import write_json
    from .pipeline import CONFIG_FILE, Pipeline
    from .train import TrainingInterrupted
    from .train.curves import CURVES_FILE, plot_curves

    if (Path(args.config) / CONFIG_FILE).is_file():  # a saved run, trained on from its weights (fine-tuning)
        pipeline = Pipeline.load(args.config)
        pipeline = pipeline.trainable() if pipeline.deployed else pipeline
        default_out = Path(f"{str(args.config).rstrip('/')}-trained")  # never the run's own out_dir: that holds the run trained from
    else:
        pipeline = Pipeline.from_config(args.config)
        default_out = None
    configured = dict(pipeline.options.get("train") or {})
    out = Path(args.out or default_out or configured.get("out_dir") or Path("runs") / Path(args.config).stem)
    train_options = {**parse_options(args.set), "out_dir": str(out)}
    if args.epochs is not None:
        train_options["epochs"] = args.epochs
    if args.resume:
        train_options["resume"] = args.resume
    notices = logging.StreamHandler(sys.stderr)  # "resumed from ..." and the like, for this command only
    engine_log = logging.getLogger("cvcore.train")
    level = engine_log.level
    engine_log.addHandler(notices)
    engine_log.setLevel(logging.INFO)
    try:
        history = pipeline.fit(**train_options)
    except TrainingInterrupted as exc:
        print(f"cvcore train: {exc}", file=sys.stderr)
        if exc.checkpoint:
            print(f"continue with: cvcore train {args.config} --out {out} --resume", file=sys.stderr)
        return 128 + exc.signal  # 130 after Ctrl-C, 143 after SIGTERM, as a shell reports a process the signal ended
    finally:
        engine_log.removeHandler(notices)
        engine_log.setLevel(level)
    if history["rank"] != 0:
        return 0  # under `cvcore launch`, worker 0 saves and reports
    pipeline.options["train"] = {**configured, **{k: v for k, v in train_options.items() if k != "resume"}}
    pipeline.save(out)
    if args.json:
        write_json(args.json, history, indent=2)
    validated = ", ".join(f"{k} {v:.4f}" for k, v in history.items() if k.startswith("val_") and isinstance(v, float))
    print(f"saved the trained pipeline to {out} after {history['epoch']} epochs" + (f" ({validated})" if validated else ""))
    print(f"learning curves: {plot_curves([out], out / CURVES_FILE)}")
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from .train.curves import plot_curves

    print(f"wrote {plot_curves(args.runs, args.out)}")
    return 0


def cmd_new_plugin(args: argparse.Namespace) -> int:
    from .scaffold import new_plugin

    folder = new_plugin(args.name, args.directory, kind=args.kind)
    print(f"wrote {folder}: the {args.kind} {args.name!r} in cvcore_{args.name}/, its test in tests/.")
    print(f"next: pip install -e {folder}[test] && pytest {folder / 'tests'}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from .pipeline import Pipeline

    overrides = {"data": {"root": args.data, **({"dataset": args.dataset} if args.dataset else {})}} if args.data else {}
    pipeline = Pipeline.open(args.target, args.pretrained, **overrides)
    if args.data:
        pipeline.options["data"] = {**dict(pipeline.options.get("data") or {}), **overrides["data"]}
    results = pipeline.evaluate(pipeline.task.dataset(pipeline, args.split))
    print(table([(k, f"{v:.4f}") for k, v in results.items()], ("metric", args.split)))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from .files import write_json
    from .pipeline import Pipeline, check_target

    target, items = (args.model, args.items) if args.model else (args.items[0], args.items[1:])
    if not items:
        raise ConfigError("Nothing to predict on: give input files or folders after the model (cvcore predict MODEL image.jpg ...).")
    check_target(target)  # before the inputs, so that a mistyped target is named first
    inputs = input_files(items)
    if args.out and len(inputs) > 1 and Path(args.out).suffix:
        raise ConfigError(f"With {len(inputs)} inputs --out must be a directory, not the file {args.out!r}.")
    pipeline = Pipeline.open(target, args.pretrained)
    options = parse_options(args.set)
    if args.out:
        options["out"] = args.out
    records = []
    for item in inputs:
        prediction = pipeline.predict(item, **options)
        prediction = prediction[0] if isinstance(prediction, list) and len(prediction) == 1 else prediction
        print(f"{item}: {pipeline.task.format_prediction(prediction)}")
        records.append({"input": str(item), **pipeline.task.prediction_json(prediction)})
    if args.json:
        write_json(args.json, records, indent=2)
    return 0


def keep_inputs_from_pretrained(argv: Sequence[str]) -> list[str]:
    """``predict`` arguments with ``--pretrained`` moved after the positional ones, so that it takes none of them.

    ``--pretrained [FILE]`` would take the argument after it as its weights file, and argparse wants the target and
    inputs together: ``predict X --pretrained a.jpg b.jpg`` is read as ``predict X a.jpg b.jpg --pretrained``, and
    ``predict X --pretrained w.params a.jpg`` as ``predict X a.jpg --pretrained=w.params``. The argument after a bare
    ``--pretrained`` is its file only when it is a ``.params`` file or another existing file that is neither an image
    nor a ``.toml`` config; ``--pretrained=FILE`` always is.
    """
    argv = list(argv)
    if argv[:1] != ["predict"]:
        return argv
    from .data.image import IMAGE_SUFFIXES

    def weights(value: str) -> bool:
        path = Path(value)
        return path.suffix == ".params" or (path.is_file() and path.suffix.lower() not in (*IMAGE_SUFFIXES, ".toml"))

    end = argv.index("--") if "--" in argv else len(argv)
    kept, moved, at = [], [], 0
    while at < end:
        arg, after = argv[at], argv[at + 1] if at + 1 < end else None
        at += 1
        if arg == "--pretrained" and after is not None and not after.startswith("-") and weights(after):
            moved.append(f"--pretrained={after}")
            at += 1
        elif arg == "--pretrained" or arg.startswith("--pretrained="):
            moved.append(arg)
        else:
            kept.append(arg)
    return kept + moved + argv[end:]


def input_files(items: Sequence[str]) -> list[Path]:
    """The files named, with each folder replaced by the images in it (sorted by name)."""
    from .data.image import IMAGE_SUFFIXES

    files: list[Path] = []
    for item in map(Path, items):
        if item.is_dir():
            images = sorted(p for p in item.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            if not images:
                raise ConfigError(f"The folder {item} holds no images ({', '.join(IMAGE_SUFFIXES)}).")
            files.extend(images)
        else:
            files.append(item)
    return files


def cmd_deploy(args: argparse.Namespace) -> int:
    from .pipeline import Pipeline, check_target
    from .zoo import get_recipe

    options = parse_options(args.set)
    check_target(args.target)
    recipe = get_recipe(args.target) if _is_zoo_name(args.target) else None
    if recipe is not None and recipe.deploy:
        if args.transform:
            raise ConfigError(f"{args.target} is a deployed zoo entry with its own steps; drop --transform, or deploy {recipe.base}.")
        pipeline = Pipeline.from_model(recipe.base, args.pretrained)
        chain = [step["transform"] for step in recipe.deploy]
        given = step_options(chain, options, args.out)
        steps = [(name, {**{k: v for k, v in step.items() if k != "transform"}, **mine})
                 for (name, mine), step in zip(given, recipe.deploy)]
    elif not args.transform:
        raise ConfigError("Name at least one --transform (hybridize, export, int8, onnx, openvino, ...).")
    else:
        pipeline = Pipeline.open(args.target, args.pretrained)
        steps = step_options(args.transform, options, args.out)
    calib = pipeline.dataset_at(args.calib, args.calib_split) if args.calib else None
    report_data = pipeline.task.dataset(pipeline, args.report_split) if args.report else None
    before = pipeline.evaluate(report_data) if args.report else None
    for transform, transform_options in steps:
        pipeline.deploy(transform, calib_data=calib, **transform_options)
    if recipe is not None and recipe.deploy:
        pipeline.model_name = args.target
    pipeline.save(args.out)
    print(f"deployed {' -> '.join(t for t, _ in steps)}; saved to {args.out}")
    if args.report:
        after = pipeline.evaluate(report_data)
        rows = [(k, f"{before[k]:.4f}", f"{after[k]:.4f}", f"{after[k] - before[k]:+.4f}") for k in before if k in after]
        print(table(rows, ("metric", "before", "deployed", "delta")))
        if args.json:
            Path(args.json).write_text(json.dumps({"before": before, "deployed": after, "split": args.report_split}, indent=2))
    return 0


def step_options(chain: Sequence[str], options: Mapping[str, Any], out: str) -> list[tuple[str, dict[str, Any]]]:
    """Each transform of ``chain`` with its ``--set`` options: ``TRANSFORM.key`` ones, and unprefixed keys it accepts.

    An option no transform of the chain takes is an error naming what they take. The ``onnx``
    step writes its file into the output folder unless ``onnx.path`` says otherwise.
    """
    from .options import accepted_keywords, check_keys
    from .plugins import get

    accepted = {name: accepted_keywords(get("transform", name).factory) for name in chain}
    chosen: list[tuple[str, dict[str, Any]]] = [(name, {"path": str(Path(out) / "model.onnx")} if name == "onnx" else {})
                                               for name in chain]
    known: set[str] = set()
    for name in chain:
        known.update(f"{name}.{key}" for key in accepted[name] or ())
        known.update(accepted[name] or ())
    for key, value in options.items():
        owner, dot, option = key.partition(".")
        if dot:
            if owner not in chain:
                raise ConfigError(f"--set {key}: there is no {owner!r} step among the transforms {', '.join(chain)}.")
            for name, mine in chosen:
                if name == owner:
                    mine[option] = value
            continue
        takers = [mine for name, mine in chosen if accepted[name] is None or key in accepted[name]]
        if not takers:
            check_keys([key], known, f"option of the transforms {', '.join(chain)}")
        for mine in takers:
            mine[key] = value
    return chosen


def _is_zoo_name(target: str) -> bool:
    path = Path(target)
    return not path.exists() and path.suffix != ".toml"


def cmd_bench(args: argparse.Namespace) -> int:
    from .deploy.benchmark import compare_inference_paths
    from .pipeline import Pipeline

    pipeline = Pipeline.open(args.target, args.pretrained)
    rows, results = compare_inference_paths(pipeline, batch_size=args.batch_size, runs=args.runs, seconds=args.seconds)
    print(table(rows, ("path", "batch", "img/s (median)", "runs", "speedup")))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


def cmd_data_synth(args: argparse.Namespace) -> int:
    from .plugins import host

    registry = host().registry
    candidates = [
        e for e in registry.entries("dataset")
        if "synthesize" in e.component.meta and args.kind in (e.name, e.component.meta.get("synth_name"))
    ]
    if not candidates:
        registry.get("dataset", args.kind)  # raises with suggestions and install hints
        names = [e.component.meta.get("synth_name", e.name) for e in registry.entries("dataset") if "synthesize" in e.component.meta]
        raise CvcoreError(f"Dataset {args.kind!r} cannot be synthesized; these can: {', '.join(names) or 'none'}.")
    from .options import check_call

    synthesize, options = candidates[0].component.meta["synthesize"], parse_options(args.set)
    check_call(synthesize, options, f"option of the {args.kind} generator")
    synthesize(Path(args.directory), **options)
    print(f"wrote a synthetic {args.kind} dataset to {args.directory}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .catalog import FIRST_PARTY
    from .plugins import get, host

    if args.task:
        return get("task", args.task).build().demo(**parse_options(args.set))
    tasks = {name: get("task", name).build() for name in host().registry.available("task")}
    with_demo = [name for name, task in tasks.items() if task.has_demo]
    if not with_demo:
        pose = next(p for p in FIRST_PARTY if p.entry_point == "pose")
        installed = host().plugins.get(pose.entry_point)
        fix = (
            f"{pose.distribution} is installed but its status is {installed.status!r} and it registers no pose task yet."
            if installed is not None
            else f"It comes with {pose.distribution}: {pose.install_hint}."
        )
        raise CvcoreError(f"No installed task has a demo; the demo is the pose task's. {fix}")
    name = "pose" if "pose" in with_demo else with_demo[0]
    return tasks[name].demo(**parse_options(args.set))


def cmd_launch(args: argparse.Namespace) -> int:
    from .train.cluster import read_hostfile
    from .train.launch import launch

    command = list(args.worker_command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise ConfigError("Nothing to launch: give a command after --, e.g. cvcore launch -n 2 -- cvcore train cfg.toml")
    hosts = read_hostfile(args.hosts) if args.hosts else None
    launcher = args.launcher or ("ssh" if hosts else "local")
    if hosts and launcher != "ssh":
        raise ConfigError(f"--hosts goes with the ssh launcher; --launcher {launcher} finds its hosts itself.")
    return launch(command, workers=args.workers, servers=args.servers, port=args.port, timeout=args.timeout, hosts=hosts,
                  launcher=launcher, ssh=args.ssh_command)


# -- parser -------------------------------------------------------------------------
class VersionAction(argparse.Action):
    """``--version``: cvcore's version and each plugin's, found when asked (not when the parser is built)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, option: str | None = None) -> None:
        print(version_text())
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cvcore", description="Plugin-based computer vision on MXNet Gluon.")
    parser.add_argument("--version", action=VersionAction, help="print the versions of cvcore and of each installed plugin")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def verb(name: str, func, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        return p

    def pretrained(p: argparse.ArgumentParser, *, inputs_follow: bool = False) -> None:
        after = (" After a bare --pretrained, an image, a folder, a .toml or a name that is no file is an input, not FILE."
                 if inputs_follow else "")
        p.add_argument("--pretrained", nargs="?", const=True, default=False, metavar="FILE",
                       help=f"load zoo weights, or the .params FILE, for a zoo model (--pretrained=FILE is unambiguous).{after}")

    def target(p: argparse.ArgumentParser) -> None:
        p.add_argument("target", help="zoo model name, pipeline config (.toml) or saved pipeline directory")
        pretrained(p)

    def settings(p: argparse.ArgumentParser, what: str) -> None:
        p.add_argument("--set", action="append", metavar="KEY=VALUE", help=f"{what} (repeatable)")

    p = verb("plugins", cmd_plugins, "List plugins, their status and what they register.")
    p.add_argument("name", nargs="?", help="only this plugin (entry-point or distribution name), with every name it registers")
    p.add_argument("-v", "--verbose", action="store_true", help="list every name each plugin registers")
    p = verb("models", cmd_models, "List zoo models.")
    p.add_argument("--task", help="only models of this task")
    p = verb("info", cmd_info, "Describe a model or part by name, or a pipeline; for models and pipelines, what they cost.")
    p.add_argument("name", metavar="NAME_OR_RUN", help="a registered name, a saved pipeline folder or a pipeline config (.toml)")
    p.add_argument("--shape", metavar="N,C,H,W", help="the input shape to profile models and pipelines at (default: their own)")

    p = verb("train", cmd_train, "Train the pipeline a TOML config describes, or train a saved run on (fine-tuning).")
    p.add_argument("config", metavar="CONFIG_OR_RUN",
                   help="a pipeline config (.toml), or a saved pipeline folder to train on from its weights")
    p.add_argument("--out", help="directory for checkpoints, train.jsonl and the trained pipeline "
                                 "(default: [train] out_dir, else runs/<config name>; for a saved run, RUN-trained)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--json", help="also write the run's history (every epoch's record) to this JSON file")
    p.add_argument("--resume", nargs="?", const=True, default=False, metavar="CHECKPOINT",
                   help="continue from the latest checkpoint in --out (or from CHECKPOINT); exact, as if never stopped")
    settings(p, "training option overriding [train]")

    p = verb("plot", cmd_plot, "Draw the learning curves of training runs, overlaid, into a PNG.")
    p.add_argument("runs", nargs="+", metavar="RUN", help="run folders (what cvcore train --out wrote)")
    p.add_argument("--out", default="curves.png", help="the picture to write (default curves.png)")

    p = verb("eval", cmd_eval, "Evaluate a pipeline on a dataset split.")
    target(p)
    p.add_argument("--data", help="dataset root (overrides [data] root)")
    p.add_argument("--dataset", help="registered dataset name (overrides [data] dataset)")
    p.add_argument("--split", default="val")
    p.add_argument("--json", help="also write the metrics to this JSON file")

    p = verb("predict", cmd_predict, "Run a pipeline on input files.")
    p.add_argument("items", nargs="+", metavar="[TARGET] INPUT",
                   help="zoo model name, pipeline config (.toml) or saved pipeline directory, then input files or folders of images")
    p.add_argument("--model", help="the target, given as an option; then every positional argument is an input")
    pretrained(p, inputs_follow=True)
    p.add_argument("--out", help="where the task writes drawn results")
    p.add_argument("--json", help="also write every raw result (scores, keypoints, ...) to this JSON file")
    settings(p, "prediction option")

    p = verb("deploy", cmd_deploy, "Apply deploy transforms and save the deployed pipeline.")
    target(p)
    p.add_argument("--transform", action="append", help="deploy transform (repeatable, applied in order); "
                   "a deployed zoo entry such as resnet50_v1_int8 brings its own")
    p.add_argument("--calib", help="dataset root for calibration data")
    p.add_argument("--calib-split", default="train")
    p.add_argument("--out", required=True)
    p.add_argument("--report", action="store_true", help="evaluate before and after deploying and print both with the delta")
    p.add_argument("--report-split", default="val", help="split the report evaluates (of --calib's root when given)")
    p.add_argument("--json", help="with --report, also write both evaluations to this JSON file")
    settings(p, "transform option; TRANSFORM.KEY=VALUE gives it to that transform only (int8.calib_mode=entropy)")

    p = verb("bench", cmd_bench, "Inference img/s: plain hybridize against cvcore's default path "
                                 "(a deployed pipeline: FP32 against its deployed graph).")
    target(p)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--seconds", type=float, default=2.0, help="length of each timed run")
    p.add_argument("--json", help="also write the results to this JSON file")

    data = sub.add_parser("data", help="Dataset tools.")
    data_sub = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    p = data_sub.add_parser("synth", help="Write a synthetic dataset in its real on-disk format.")
    p.set_defaults(func=cmd_data_synth, verb="data synth")
    p.add_argument("kind", help="e.g. classification, keypoints")
    p.add_argument("directory")
    settings(p, "generator option")

    p = verb("demo", cmd_demo, "Run the end-to-end demo of an installed task (pose by default).")
    p.add_argument("--task")
    settings(p, "demo option")

    from .train.launch import LAUNCHERS, SSH

    p = verb("launch", cmd_launch, "Run a command as distributed workers on MXNet's parameter-server kvstore.")
    p.add_argument("-n", "--workers", type=int, default=2)
    p.add_argument("-s", "--servers", type=int, default=1)
    p.add_argument("--hosts", metavar="FILE", help="one host per line ('NAME', 'NAME slots=N'): start the job there over ssh")
    p.add_argument("--launcher", choices=LAUNCHERS, help="local (default), ssh (default with --hosts) or slurm (inside an allocation)")
    p.add_argument("--ssh-command", default=SSH, help=f"how to reach a host (default: {SSH!r})")
    p.add_argument("--port", type=int, help="scheduler port (default: a free one)")
    p.add_argument("--timeout", type=float, help="seconds before everything is stopped")
    p.add_argument("worker_command", nargs=argparse.REMAINDER, metavar="COMMAND", help="-- then the command each worker runs")

    from .scaffold import KINDS

    p = verb("new-plugin", cmd_new_plugin, "Write a ready plugin package with one part and a test of its contract.")
    p.add_argument("name", help="the plugin's name: the package is cvcore-NAME, the part is registered as NAME")
    p.add_argument("directory", nargs="?", help="where to write it (default ./cvcore-NAME)")
    p.add_argument("--kind", choices=KINDS, default="backbone", help="the kind of part (default backbone)")

    add_plugin_commands(sub)
    return parser


def add_plugin_commands(sub: Any) -> None:
    """Add every command the plugins register (``cvcore_commands``) as a verb after the core's.

    A command named like a verb the core has, or whose ``configure`` fails, is skipped
    with a warning naming its plugin, so that no plugin can break the command line.
    """
    from .plugins import PluginLoadWarning, host

    for entry in host().registry.entries("command"):
        component, who = entry.component, f"cvcore plugin {entry.plugin!r}"
        if entry.name in sub.choices:
            warnings.warn(f"{who} registers the command {entry.name!r}, which is a verb of cvcore itself: the core's verb is kept "
                          "and the plugin's is skipped. Rename it in the plugin's cvcore_commands hook.", PluginLoadWarning, stacklevel=2)
            continue
        description = (component.doc or component.factory.__doc__ or "").strip() or None
        configured = argparse.ArgumentParser(prog=f"cvcore {entry.name}")
        configure = component.meta.get("arguments")
        try:
            if configure is not None:
                configure(configured)
        except Exception as exc:  # any failure of the plugin's code must leave the other verbs working
            warnings.warn(f"{who}: the arguments of its command {entry.name!r} could not be added ({type(exc).__name__}: {exc}), "
                          "so the command is skipped. meta['arguments'] must be configure(parser) -> None, adding arguments "
                          "with parser.add_argument.", PluginLoadWarning, stacklevel=2)
            continue
        p = sub.add_parser(entry.name, help=component.summary, description=description, parents=[configured], add_help=False)
        p.set_defaults(func=component.factory)


def main(argv: Sequence[str] | None = None) -> int:
    with one_line_warnings("cvcore"):  # plugins that fail to load, commands that are refused
        parser = build_parser()
    args = parser.parse_args(keep_inputs_from_pretrained(sys.argv[1:] if argv is None else argv))
    name = f"cvcore {getattr(args, 'verb', args.command)}"
    with one_line_warnings(name):
        return _run(args, name)


@contextlib.contextmanager
def one_line_warnings(name: str) -> Iterator[None]:
    """Show warnings as ``NAME: warning: MESSAGE``, one line each, not with the warning's source."""

    def format_warning(message, category, filename, lineno, line=None) -> str:
        return f"{name}: warning: {message}\n"

    previous, warnings.formatwarning = warnings.formatwarning, format_warning
    try:
        yield
    finally:
        warnings.formatwarning = previous


def _run(args: argparse.Namespace, name: str) -> int:
    try:
        return int(args.func(args) or 0)
    except CvcoreError as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
