"""Run the course's notebooks with papermill and print a summary: `make run` and `make notebooks` call this.

    python tools/run_course.py [--name NAME] [--params FILE.yaml] [-p NAME VALUE ...] [--notebooks 01,05]
    python tools/run_course.py --in-place [--notebooks 04]   # maintainers: re-execute the committed notebooks

Parameters come from papermill's own sources, in this order, each beating the one before: a YAML file's top-level
names (for every notebook that declares them), its sections named after a notebook (``05_better_training:``, for
that notebook only), then ``-p NAME VALUE`` on the command line. A name that no notebook declares is refused before
anything runs. The YAML file's values are YAML, read as papermill's ``-f`` reads them (YAML 1.1: write ``0.001`` or
``1.0e-3``, as ``1e-3`` is a string there). ``-p`` reads VALUE as papermill's own ``-p`` does: True, False, None, an
integer, a number (``1e-3`` is 0.001, ``010`` is 10), else a string. One addition: a value in brackets is a list,
each item read the same way (``-p hidden "[256, 128]"``); papermill's own ``-p`` passes it on as a string, which a
notebook refuses, and takes a list as ``-y "hidden: [256, 128]"``.

A password is never printed (it shows as ``***``) nor written into an executed notebook. The password of a
``postgresql://user:password@host/db`` URL is taken out of it and given to the kernel as ``PGPASSWORD``, the
variable of PostgreSQL's own client library; a password in any other URL is refused: leave it out, and give it as
the database's own password file or environment variable.

A run writes only under ``runs/<NAME>/``: the executed notebooks, and the artifacts they pass to each other in
``runs/<NAME>/artifacts/`` (unless ``-p artifacts`` says otherwise). NAME must be a plain folder name. Nothing is
deleted: a notebook run again replaces its own files. A notebook that fails stops the run; its error and the summary
are printed, and the exit status is 1. The summary gives each notebook's seconds, the total with the machine that
took it, and the test accuracies that this run's notebooks wrote (none that an earlier run left in the artifacts).

``--in-place`` executes each notebook into a temporary file beside it and puts it in the committed notebook's place
only when it ran to the end: after a failure or Ctrl-C the committed notebook is as it was, and a failed notebook's
executed copy is in ``runs/in-place/``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import papermill
import yaml
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.paths import jupyter_runtime_dir
from papermill.cli import _resolve_type  # how papermill's own `-p NAME VALUE` reads VALUE
from papermill.iorw import NoDatesSafeLoader  # how papermill's own `-f FILE.yaml` reads a file

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tools/, for notebook_names
import notebook_names  # noqa: E402  (the course's notebook names, shared by the tools)

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
#: The files of the headline accuracies: the notebook that writes each, and the summary's name for it.
HEADLINES = {
    "metrics.json": ("06_evaluation", "MLP test accuracy"),
    "cnn_metrics.json": ("10_cnn_training", "CNN test accuracy"),
    "tuning_winner.json": ("11c_winner", "MLP after the search (test)"),
}
#: A URL's password (``scheme://user:PASSWORD@host``, up to the word's last ``@``), or ``password=`` in its query.
PASSWORD = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^\s/@:]*:)\S*(?=@)|([?&;]password=)[^\s&;'\"]*")
POSTGRES = ("postgresql", "postgres")  # the schemes of libpq's URLs (SQLAlchemy adds "+driver")
IN_PLACE_FAILURES = "in-place"  # runs/in-place/: the executed copy of a notebook that failed in an in-place run


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
    return [p.stem for p in notebook_names.course_notebooks(folder)]


def select(spec: str | None, names: list[str]) -> list[str]:
    """Return the notebooks that ``spec`` picks ("01,05", "5b" or "05_better_training"); all when it is empty."""
    try:
        return notebook_names.pick(spec, names)
    except ValueError as error:
        raise UsageError(f"--notebooks: {error}.") from None


def run_folder(name: str, root: Path = REPO) -> Path:
    """Return ``runs/<name>``, or refuse a name that is not a plain folder name (``..``, ``.``, a path)."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name) or name in (".", ".."):
        raise UsageError(
            f"NAME={name!r} is not a plain folder name: use letters, digits, '.', '_' or '-' (e.g. NAME=quick); "
            "a run writes only under runs/<NAME>/."
        )
    return root / "runs" / name


def read_yaml(path: str | None) -> dict:
    """Return the mapping in YAML file ``path`` (empty without one), read as papermill's ``-f`` reads it."""
    if not path:
        return {}
    if not Path(path).is_file():
        raise UsageError(f"PARAMS={path} is not a file: give a YAML file of parameters.")
    content = yaml.load(Path(path).read_text(), Loader=NoDatesSafeLoader) or {}
    if not isinstance(content, dict):
        raise UsageError(f"{path} must hold a mapping of parameter names to values.")
    return content


def command_line_value(name: str, text: str) -> Any:
    """Return ``-p`` value ``text`` as papermill's ``-p`` reads it (True, False, None, an int, a float, else the
    string); a value in brackets is a list whose items are read the same way ("[256, 128]" is [256, 128])."""
    if not text.lstrip().startswith("["):
        return _resolve_type(text)
    try:
        items = yaml.load(text, Loader=yaml.BaseLoader)  # the list's structure; every item stays a string
    except yaml.YAMLError:
        raise UsageError(f"-p {name} {text!r} is not a list: write it as [256, 128].") from None

    def resolve(item: Any) -> Any:
        if isinstance(item, list):
            return [resolve(x) for x in item]
        return _resolve_type(item) if isinstance(item, str) else item  # a mapping: the notebook says what it wants

    return resolve(items)


def parameters(
    chosen: list[str], declared: dict[str, set[str]], params_file: str | None, overrides: list
) -> dict[str, dict]:
    """Return each chosen notebook's parameters: YAML top level, then its YAML section, then ``-p`` overrides."""
    content, known = read_yaml(params_file), set().union(*declared.values())
    sections = {k: v for k, v in content.items() if k in declared}
    shared = {k: v for k, v in content.items() if k not in declared}
    command_line = {name: command_line_value(name, value) for name, value in overrides}
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


def mask(text: str) -> str:
    """Return ``text`` with every password of a URL in it shown as ``***``."""
    return PASSWORD.sub(lambda m: (m.group(1) or m.group(2)) + "***", text)


def take_password(value: str) -> tuple[str, str | None]:
    """Return a ``postgresql://`` URL without its password, and that password (None when there is none)."""
    parts = urllib.parse.urlsplit(value)
    userinfo, _, host = parts.netloc.rpartition("@")
    if parts.scheme.lower().split("+")[0] not in POSTGRES or ":" not in userinfo:
        return value, None
    user, _, password = userinfo.partition(":")
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}@{host}")), urllib.parse.unquote(password) or None


def without_passwords(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Return a notebook's parameters with the password of each ``postgresql://`` URL taken out, and the variables
    that give it to the kernel (``PGPASSWORD``); refuse any other password, which papermill would write down."""
    kept, env = {}, {}
    for name, value in params.items():
        password = None
        if isinstance(value, str):
            value, password = take_password(value)
        if password is not None and env.setdefault("PGPASSWORD", password) != password:
            raise UsageError("Two postgresql:// URLs with different passwords: one PGPASSWORD cannot hold both.")
        if mask(repr(value)) != repr(value):
            raise UsageError(
                f"Parameter {name}={mask(repr(value))} holds a password, which would be printed and kept in the "
                "executed notebook: leave it out of the URL and give it as the database's own password file or "
                "environment variable (PostgreSQL: ~/.pgpass or PGPASSWORD; a postgresql:// URL's password, "
                "percent-encoded, is moved into PGPASSWORD for you)."
            )
        kept[name] = value
    return kept, env


@contextlib.contextmanager
def environment(extra: dict[str, str]) -> Iterator[None]:
    """Set the variables ``extra`` meanwhile (a kernel started meanwhile inherits them); then put back the old."""
    old = {name: os.environ.get(name) for name in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for name, value in old.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def clean(path: Path) -> None:
    """Strip what changes at every run but the outputs from an executed notebook: papermill's metadata (times,
    paths of this machine) and execution timestamps, so that re-running a notebook changes only its outputs. The
    saved state of the widgets it shows stays: JupyterLab draws a saved widget (the drawing pad) from it."""
    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        for key in ("papermill", "execution"):
            cell.metadata.pop(key, None)
        if "injected-parameters" in cell.metadata.get("tags", []):
            raise UsageError(f"{path.name} holds papermill's injected parameters: an in-place run takes none.")
    nbformat.write(nb, path)


def execute(nb: str, params: dict, out: Path, folder: Path, timeout: int | None, env: dict | None = None) -> str | None:
    """Run notebook ``nb`` of ``folder`` with papermill into ``out``, its kernel with the variables ``env`` too;
    return None, or what went wrong."""
    try:
        with environment(env or {}):
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


def execute_in_place(nb: str, folder: Path, failures: Path, timeout: int | None) -> tuple[str | None, Path]:
    """Run committed notebook ``nb`` into a temporary file beside it, and put that in its place only when it ran to
    the end (a failure or Ctrl-C leaves the committed notebook as it was). Return None or what went wrong, and where
    the executed notebook is (a failed one goes to folder ``failures``)."""
    committed, temporary = folder / f"{nb}.ipynb", folder / f".{nb}.{os.getpid()}.running.ipynb"
    try:
        error = execute(nb, {}, temporary, folder, timeout)
        if error is None:
            clean(temporary)
            os.replace(temporary, committed)  # the same folder: the committed file is whole, old or new
            return None, committed
        if temporary.is_file():
            failures.mkdir(parents=True, exist_ok=True)
            shutil.move(temporary, failures / committed.name)
        return error, failures / committed.name
    finally:
        temporary.unlink(missing_ok=True)


def stamp(path: Path) -> tuple | None:
    """Return what tells whether file ``path`` was written again (time, size, inode), or None when it is missing."""
    with contextlib.suppress(OSError):
        info = path.stat()
        return info.st_mtime_ns, info.st_size, info.st_ino
    return None


def _output(command: list[str]) -> str:
    """Return what ``command`` prints, stripped; empty when it cannot run."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        return subprocess.run(command, capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    return ""


def machine(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """Return this machine in a few words: its CPU's model (from Linux's ``cpuinfo``, else the system's own word),
    the CPUs this process may use, its system, and its NVIDIA GPUs."""
    model = ""
    with contextlib.suppress(OSError):
        names = [line for line in cpuinfo.read_text().splitlines() if line.startswith("model name")]
        model = names[0].split(":", 1)[1].strip() if names else ""
    if not model and platform.system() == "Darwin":
        model = _output(["sysctl", "-n", "machdep.cpu.brand_string"])
    model = model or platform.processor() or "an unknown CPU"
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    gpus = _output(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"]) if shutil.which("nvidia-smi") else ""
    gpus = ", ".join(filter(None, (line.strip() for line in gpus.splitlines())))
    return f"{model} ({cpus} CPUs), {platform.system()} {platform.machine()}" + (f", GPU: {gpus}" if gpus else "")


def summary(rows: list[tuple[str, float, str]], headlines: dict[str, Path], artifacts: Path, out_dir: Path) -> str:
    """Return the end-of-run summary: each notebook's seconds and status, the total on this machine, then the
    accuracies in ``headlines``, the files of HEADLINES that this run wrote."""
    lines = ["", "Summary", "-------", f"  {'notebook':<22}{'seconds':>8}  status"]
    lines += [f"  {nb:<22}{seconds:>8.1f}  {status}" for nb, seconds, status in rows]
    lines.append(f"  {'total':<22}{sum(r[1] for r in rows):>8.1f}  on {machine()}")
    for name, path in headlines.items():
        try:
            lines.append(f"  {HEADLINES[name][1]:<28}{json.loads(path.read_text())['test_accuracy']:.2%}")
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not a file of accuracies after all
    return "\n".join(lines + [f"  notebooks: {out_dir}", f"  artifacts: {artifacts}"])


def prepare(args: argparse.Namespace, folder: Path, root: Path) -> tuple:
    """Return the run's folder, its notebooks, their parameters, the variables each kernel gets, and the artifacts
    folder; refuse bad input before anything is written."""
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
    split = {nb: without_passwords(params[nb]) for nb in chosen}
    params, env = {nb: p for nb, (p, _) in split.items()}, {nb: e for nb, (_, e) in split.items()}
    return out_dir, chosen, params, env, artifacts


def run(args: argparse.Namespace, folder: Path = NOTEBOOKS, root: Path = REPO) -> int:
    """Execute the chosen notebooks in order; print each one's error and the summary; return the exit status."""
    out_dir, chosen, params, env, artifacts = prepare(args, folder, root)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows, status, headlines = [], 0, {}
    for nb in chosen:
        shown = {k: v for k, v in params[nb].items() if k != "artifacts"}
        print(mask(f"==> {nb}" + (f"  {shown}" if shown else "")), flush=True)
        where = root / Path(params[nb].get("artifacts") or artifacts).expanduser()  # as mnist_lab.runtime reads it
        before = {name: stamp(where / name) for name, (writer, _) in HEADLINES.items() if writer == nb}
        start = time.perf_counter()
        if args.in_place:
            error, executed = execute_in_place(nb, folder, run_folder(IN_PLACE_FAILURES, root), args.timeout)
        else:
            executed = out_dir / f"{nb}.ipynb"
            error = execute(nb, params[nb], executed, folder, args.timeout, env[nb])
        rows.append((nb, time.perf_counter() - start, "failed" if error else "ok"))
        headlines |= {name: where / name for name, old in before.items() if stamp(where / name) not in (None, old)}
        if error:
            print(mask(f"error: {nb} failed: {error}\n       its executed notebook: {executed}"), file=sys.stderr)
            rows += [(later, 0.0, "not run") for later in chosen[len(rows) :]]
            status = 1
            break
    print(mask(summary(rows, headlines, artifacts, out_dir)))
    return status


def parser() -> argparse.ArgumentParser:
    """Return the command line's parser."""
    p = argparse.ArgumentParser(
        prog="run_course.py",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 2)[2].replace("``", ""),  # how parameters and passwords are read, the rest
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--name", default="default", help="the run's folder under runs/ (a plain name)")
    p.add_argument("--params", default=None, help="a YAML file of parameters (top level, or sections per notebook)")
    p.add_argument(
        "-p",
        "--param",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="a parameter, read as papermill's -p reads it (True, False, None, 10, 1e-3, else a string), "
        'or a list in brackets: -p hidden "[256, 128]" (a postgresql:// URL\'s password goes to the kernel as '
        "PGPASSWORD, not into the notebook)",
    )
    p.add_argument("--notebooks", default=None, help="notebooks to run, by name or number: 01,05")
    p.add_argument(
        "--in-place",
        action="store_true",
        help="re-execute the committed notebooks (maintainers); each is replaced only when it ran to the end",
    )
    p.add_argument("--timeout", type=int, default=None, help="seconds a cell may run (default: no limit)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; bad input gets one line of error and exit status 2."""
    args = parser().parse_args(argv)
    os.environ.pop("MPLBACKEND", None)  # an Agg backend here would keep the figures out of the notebooks
    try:
        return run(args)
    except UsageError as exc:
        print(mask(f"error: {exc}"), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
