"""Running the documentation's examples: its files, its Python with the outputs its comments promise, its commands."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[\w-]*)[ \t]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.S | re.M)
FILE_HEADER = re.compile(r"^# (?P<path>[\w.-]+/[\w./-]+\.(?:py|toml))\n")
PRINT_WITH_OUTPUT = re.compile(r"^(?P<indent>\s*)print\((?P<args>.*)\)\s+# (?P<expected>.+)$")
EXPECT = '''
import re as _re


def _expect(_line, _expected, *_values):
    """The example's promise: what it prints matches its comment ('...' stands for anything)."""
    _shown = " ".join(map(str, _values))
    _pattern = ".*".join(map(_re.escape, _expected.split("...")))
    assert _re.fullmatch(_pattern, _shown, _re.S), f"line {_line}: printed {_shown!r}, the docs say {_expected!r}"
    print(_shown)
'''


def code_blocks(path: Path, lang: str | None = None) -> list[str]:
    """The fenced code blocks of a Markdown file, in order (optionally only those of ``lang``)."""
    blocks = []
    for match in FENCE.finditer(path.read_text(encoding="utf-8")):
        if lang is None or match["lang"] == lang:
            indent = len(match["indent"])
            blocks.append("".join(line[indent:] for line in match["body"].splitlines(keepends=True)))
    return blocks


def files_of(path: Path) -> dict[str, str]:
    """The files a document shows whole: blocks whose first line is ``# folder/file.py`` (or ``.toml``)."""
    files = {}
    for block in code_blocks(path):
        header = FILE_HEADER.match(block)
        if header:
            files[header["path"]] = block
    return files


def write_files(path: Path, into: Path) -> list[Path]:
    written = []
    for relative, text in files_of(path).items():
        target = into / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        written.append(target)
    return written


def with_expectations(block: str) -> str:
    """``block`` with each ``print(x)  # shown`` checked: the printed text must match the comment."""
    lines = []
    for number, line in enumerate(block.splitlines(), 1):
        found = PRINT_WITH_OUTPUT.match(line)
        if found:
            line = f"{found['indent']}_expect({number}, {found['expected'].strip()!r}, {found['args']})"
        lines.append(line)
    return EXPECT + "\n".join(lines) + "\n"


def run_python(block: str, cwd: Path, python_path: list[Path]) -> str:
    """Run a documented Python block in a new interpreter in ``cwd``; returns what it printed, fails with its error."""
    script = cwd / "example.py"
    script.write_text(with_expectations(block))
    env = {"PYTHONPATH": ":".join(map(str, [*python_path, ROOT])), "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
           "HOME": str(cwd), "CVCORE_HOME": str(cwd / ".cvcore")}
    result = subprocess.run([sys.executable, str(script)], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"the documented example failed:\n{block}\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    return result.stdout


def matches_sample(sample: str, output: str) -> bool:
    """``output`` has the sample's lines in order; a sample line ``...`` stands for any number of lines, ``...`` in a line for any text."""
    pattern = "".join(r"(?:.*\n)*" if line.strip() == "..." else ".*".join(map(re.escape, line.rstrip().split("..."))) + r"\n"
                      for line in sample.strip().splitlines())
    shown = "".join(line.rstrip() + "\n" for line in output.strip().splitlines())
    return re.fullmatch(pattern, shown) is not None
