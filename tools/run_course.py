"""Run the course's notebooks with papermill and print a summary: `make run` and `make notebooks` call this.

    python tools/run_course.py [--name NAME] [--params FILE.yaml] [-p NAME VALUE ...] [--notebooks 01,05]
    python tools/run_course.py --in-place [--notebooks 04]   # maintainers: re-execute the committed notebooks

Parameters come from papermill's own sources, in this order, each beating the one before: a YAML file's top-level
names (for every notebook that declares them), its sections named after a notebook (``05_better_training:``, for
that notebook only), then ``-p NAME VALUE`` on the command line (a YAML value: ``-p hidden "[256, 128]"``). A name
that no notebook declares is refused before anything runs.

A run writes only under ``runs/<NAME>/``: the executed notebooks, and the artifacts they pass to each other in
``runs/<NAME>/artifacts/`` (unless ``-p artifacts`` says otherwise). NAME must be a plain folder name. Nothing is
deleted: a notebook run again replaces its own files. A notebook that fails stops the run; its error and the summary
are printed, and the exit status is 1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

import nbformat
import papermill
import yaml
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.paths import jupyter_runtime_dir

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
HEADLINES = {"metrics.json": "MLP test accuracy", "cnn_metrics.json": "CNN test accuracy"}
HEADLINES["tuning.json"] = "Tuned MLP test accuracy"


class UsageError(ValueError):
    """A bad name, parameter, file or notebook choice on the command line: reported without a traceback."""


class IPCKernelManager(AsyncKernelManager):
    """A kernel reached through local sockets (files), not TCP: ipykernel warns at every start that TCP is not
    encrypted. Windows has no such sockets, so it keeps TCP there."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if os.name != "nt":
            self.transport = "ipc"  # its sockets are files: in Jupyter's runtime folder, not the notebooks'
            Path(jupyter_runtime_dir()).mkdir(parents=True, exist_ok=True)
            self.ip = str(Path(jupyter_runtime_dir()) / f"kernel-ipc-{os.getpid()}-{id(self):x}")


def course_notebooks(folder: Path = NOTEBOOKS) -> list[str]:
    """Return the names of the course's notebooks in ``folder`` (``01_data``, ...), in order."""
    return sorted(p.stem for p in folder.glob("*.ipynb") if re.fullmatch(r"\d\d_\w+", p.stem))


def select(spec: str | None, names: list[str]) -> list[str]:
    """Return the notebooks that ``spec`` picks ("01,05" or "05_better_training"); all of them when it is empty."""
    if not spec:
        return list(names)
    picked = []
    for item in filter(None, re.split(r"[,\s]+", spec)):
        match = [n for n in names if item in (n, n[:2], n[3:]) or n[:2] == item.zfill(2)]
        if not match:
            raise UsageError(f"No notebook {item!r}: choose among {', '.join(names)} (or their numbers).")
        picked += [n for n in match if n not in picked]
    return picked


def run_folder(name: str, root: Path = REPO) -> Path:
    """Return ``runs/<name>``, or refuse a name that is not a plain folder name (``..``, ``.``, a path)."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name) or name in (".", ".."):
        raise UsageError(
            f"NAME={name!r} is not a plain folder name: use letters, digits, '.', '_' or '-' (e.g. NAME=quick); "
            "a run writes only under runs/<NAME>/."
        )
    return root / "runs" / name


def read_yaml(path: str | None) -> dict:
    """Return the mapping in YAML file ``path`` (empty without one)."""
    if not path:
        return {}
    if not Path(path).is_file():
        raise UsageError(f"PARAMS={path} is not a file: give a YAML file of parameters.")
    content = yaml.safe_load(Path(path).read_text()) or {}
    if not isinstance(content, dict):
        raise UsageError(f"{path} must hold a mapping of parameter names to values.")
    return content


def parameters(
    chosen: list[str], declared: dict[str, set[str]], params_file: str | None, overrides: list
) -> dict[str, dict]:
    """Return each chosen notebook's parameters: YAML top level, then its YAML section, then ``-p`` overrides."""
    content, known = read_yaml(params_file), set().union(*declared.values())
    sections = {k: v for k, v in content.items() if k in declared}
    shared = {k: v for k, v in content.items() if k not in declared}
    command_line = {name: yaml.safe_load(value) for name, value in overrides}
    unknown = sorted((set(shared) | set(command_line)) - known)
    if unknown:
        raise UsageError(f"Unknown parameter(s) {unknown}: no notebook declares them. Known: {sorted(known)}.")
    for nb, section in sections.items():
        wrong = sorted(set(section or {}) - declared[nb]) if isinstance(section, dict) else ["(not a mapping)"]
        if wrong:
            raise UsageError(f"{params_file}: {nb} has no parameter(s) {wrong}; it takes {sorted(declared[nb])}.")
    result = {}
    for nb in chosen:
        merged = {**shared, **(sections.get(nb) or {}), **command_line}
        result[nb] = {k: v for k, v in merged.items() if k in declared[nb]}
    return result


def clean(path: Path) -> None:
    """Strip what changes at every run but the outputs from an executed notebook: papermill's metadata (times,
    paths of this machine), execution timestamps and saved widget state, so that re-running a notebook changes
    only its outputs."""
    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)  # the state of widgets whose kernel is gone: nothing can show it
    for cell in nb.cells:
        for key in ("papermill", "execution"):
            cell.metadata.pop(key, None)
        if "injected-parameters" in cell.metadata.get("tags", []):
            raise UsageError(f"{path.name} holds papermill's injected parameters: an in-place run takes none.")
    nbformat.write(nb, path)


def execute(nb: str, params: dict, out: Path, folder: Path, timeout: int | None) -> str | None:
    """Run notebook ``nb`` of ``folder`` with papermill into ``out``; return None, or what went wrong."""
    try:
        papermill.execute_notebook(
            str(folder / f"{nb}.ipynb"),
            str(out),
            parameters=params or None,
            kernel_name="python3",
            cwd=str(folder),
            progress_bar=False,
            execution_timeout=timeout,
            coalesce_streams=True,
            kernel_manager_class=IPCKernelManager,
        )
    except papermill.PapermillExecutionError as exc:
        return f"cell {exc.exec_count} raised {exc.ename}: {exc.evalue}"
    except Exception as exc:  # noqa: BLE001 - a dead kernel, a cell timeout, a file that cannot be written
        return f"{type(exc).__name__}: {exc}".strip()
    return None


def summary(rows: list[tuple[str, float, str]], artifacts: Path, out_dir: Path) -> str:
    """Return the end-of-run summary: each notebook's seconds and status, then the headline accuracies."""
    lines = ["", "Summary", "-------", f"  {'notebook':<22}{'seconds':>8}  status"]
    lines += [f"  {nb:<22}{seconds:>8.1f}  {status}" for nb, seconds, status in rows]
    lines.append(f"  {'total':<22}{sum(r[1] for r in rows):>8.1f}")
    for name, label in HEADLINES.items():
        try:
            lines.append(f"  {label:<28}{json.loads((artifacts / name).read_text())['test_accuracy']:.2%}")
        except (OSError, ValueError, KeyError, TypeError):
            continue  # that notebook did not run, or failed
    return "\n".join(lines + [f"  notebooks: {out_dir}", f"  artifacts: {artifacts}"])


def run(args: argparse.Namespace, folder: Path = NOTEBOOKS, root: Path = REPO) -> int:
    """Execute the chosen notebooks in order; print each one's error and the summary; return the exit status."""
    out_dir = folder if args.in_place else run_folder(args.name, root)  # a bad name is refused before anything
    names = course_notebooks(folder)
    chosen = select(args.notebooks, names)
    declared = {nb: set(papermill.inspect_notebook(str(folder / f"{nb}.ipynb"))) for nb in names}
    params = parameters(chosen, declared, args.params, args.param)
    if args.in_place:
        artifacts = Path(os.environ.get("MNIST_LAB_ARTIFACTS") or root / "artifacts")
        if any(params.values()):
            raise UsageError(
                "An in-place run executes the committed notebooks with their defaults: pass no parameters."
            )
    else:
        artifacts = Path(next((p["artifacts"] for p in params.values() if p.get("artifacts")), out_dir / "artifacts"))
        for nb in chosen:
            if "artifacts" in declared[nb]:
                params[nb].setdefault("artifacts", str(artifacts))
    out_dir.mkdir(parents=True, exist_ok=True)
    rows, status = [], 0
    for nb in chosen:
        shown = {k: v for k, v in params[nb].items() if k != "artifacts"}
        print(f"==> {nb}" + (f"  {shown}" if shown else ""), flush=True)
        start = time.perf_counter()
        error = execute(nb, params[nb], out_dir / f"{nb}.ipynb", folder, args.timeout)
        rows.append((nb, time.perf_counter() - start, "failed" if error else "ok"))
        if error:
            print(
                f"error: {nb} failed: {error}\n       its executed notebook: {out_dir / f'{nb}.ipynb'}", file=sys.stderr
            )
            rows += [(later, 0.0, "not run") for later in chosen[len(rows) :]]
            status = 1
            break
        if args.in_place:
            clean(out_dir / f"{nb}.ipynb")
    print(summary(rows, artifacts, out_dir))
    return status


def parser() -> argparse.ArgumentParser:
    """Return the command line's parser."""
    p = argparse.ArgumentParser(prog="run_course.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--name", default="default", help="the run's folder under runs/ (a plain name)")
    p.add_argument("--params", default=None, help="a YAML file of parameters (top level, or sections per notebook)")
    p.add_argument("-p", "--param", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    p.add_argument("--notebooks", default=None, help="notebooks to run, by name or number: 01,05")
    p.add_argument("--in-place", action="store_true", help="re-execute the committed notebooks (maintainers)")
    p.add_argument("--timeout", type=int, default=None, help="seconds a cell may run (default: no limit)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; bad input gets one line of error and exit status 2."""
    args = parser().parse_args(argv)
    os.environ.pop("MPLBACKEND", None)  # an Agg backend here would keep the figures out of the notebooks
    try:
        return run(args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
