#!/usr/bin/env python3
"""Renders docs/tutorial.md from docs/tutorial.template.md by running it.

The template is Markdown. Inside each ```console block, a line starting with
"$ " starts a shell command, which runs to the next such line: the
script runs it with bash against a real crowdd started on the demo data set,
and writes the command followed by its real output. Everything outside those
blocks is copied as is. So every command and every output in the tutorial is
one that ran, on this build, when the page was made.

Commands are written against http://localhost:8080; the script substitutes
the port of the server it started (bound to 127.0.0.1 only). A command that
exits non-zero, or answers a JSON error without the comment "# an error, on
purpose", fails the run (exit 1), so a tutorial step that stops working is
caught; a test (tutorial.smoke) runs this at a small population size for that
reason.

  tools/make_tutorial.py --build build [--users 1000000] [--out docs/tutorial.md]

Python 3.11 standard library only.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from crowd_tools import REPO as ROOT  # noqa: E402
from crowd_tools.server import Server, ServerError  # noqa: E402

DOC_PORT = "localhost:8080"
# A command whose error answer is intended carries this shell comment.
ERROR_EXPECTED = "# an error, on purpose"


def commands(lines: list[str]) -> list[str]:
    """The commands of a console block: each starts at a "$ " line and runs to
    the next one (the template holds no output, so every other line continues
    the command: a backslash continuation, a multi-line quoted JSON body, a
    loop)."""
    out: list[list[str]] = []
    for line in lines:
        if line.startswith("$ "):
            out.append([line[2:]])
        elif out:
            out[-1].append(line)
    return ["\n".join(c).rstrip() for c in out]


def run(command: str, port: int, workdir: Path, build: Path) -> str:
    real = command.replace(DOC_PORT, f"127.0.0.1:{port}")
    # The build's tools (crowd-gen) and the scripts (push_receiver.py) by
    # name, as a reader with build/ and tools/ on PATH.
    env = {**os.environ, "LC_ALL": "C.UTF-8", "PATH": f"{build}:{ROOT / 'tools'}:{os.environ.get('PATH', '')}"}
    done = subprocess.run(["bash", "-o", "pipefail", "-c", real], cwd=workdir, capture_output=True, text=True,
                          timeout=600, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"command failed ({done.returncode}): {command}\n{done.stdout}{done.stderr}")
    # curl -s exits 0 on HTTP errors: an error body fails the step unless the
    # template says the error is the point.
    if '{"error":' in done.stdout and ERROR_EXPECTED not in command:
        raise RuntimeError(f"command answered an error: {command}\n{done.stdout}")
    return done.stdout.rstrip("\n")


def render(template: str, port: int, workdir: Path, build: Path) -> str:
    out: list[str] = []
    lines = template.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip() != "```console":
            out.append(line)
            i += 1
            continue
        end = i + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        out.append(line)
        for command in commands(lines[i + 1:end]):
            out.append("$ " + command)
            result = run(command, port, workdir, build)
            if result:
                out.append(result)
        out.append("```")
        i = end + 1
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("--users", type=int, default=1_000_000)
    ap.add_argument("--template", default=str(ROOT / "docs" / "tutorial.template.md"))
    ap.add_argument("--out", default=str(ROOT / "docs" / "tutorial.md"))
    args = ap.parse_args()
    template = Path(args.template).read_text(encoding="utf-8")
    scratch = Path(tempfile.mkdtemp(prefix="crowd-tutorial-"))
    server = Server(Path(args.build).resolve(), ["--demo", str(args.users)], data_dir=scratch / "data", threads=2,
                    log_path=scratch / "crowdd.log")
    try:
        try:
            server.start(timeout=600)
        except ServerError as e:
            print(f"make_tutorial: {e}", file=sys.stderr)
            return 1
        try:
            page = render(template, server.port, scratch, Path(args.build).resolve())
        except RuntimeError as e:
            print(f"make_tutorial: {e}", file=sys.stderr)
            return 1
        Path(args.out).write_text(page, encoding="utf-8")
        print(f"make_tutorial: wrote {args.out}")
        return 0
    finally:
        server.stop(30)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
