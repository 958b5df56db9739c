"""Command line: ``python -m mnist_lab data``, ``python -m mnist_lab run`` and ``python -m mnist_lab student``.

The Makefile's ``data``, ``run`` and ``notebooks`` targets call these.
"""

from __future__ import annotations

import argparse
import sys


def parser() -> argparse.ArgumentParser:
    """Return the command line's parser: the subcommands ``data`` and ``run``."""
    parser = argparse.ArgumentParser(prog="python -m mnist_lab")
    sub = parser.add_subparsers(dest="command", required=True)
    p_data = sub.add_parser("data", help="put MNIST (verified) in the data root")
    p_data.add_argument("--root", default=None, help="data root (default: $MNIST_LAB_DATA or <repo>/data)")
    p_data.add_argument("--mirror", default=None, help="folder with the four .gz files (default: $MNIST_LAB_MIRROR)")
    p_run = sub.add_parser("run", help="run the notebooks with papermill and print a summary")
    p_run.add_argument("--name", default="default", help="run folder name under runs/")
    p_run.add_argument("--params", default=None, help="YAML file of parameters (shared, or per notebook)")
    p_run.add_argument(
        "-p",
        "--param",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="one parameter, e.g. -p epochs 3 (YAML syntax for the value)",
    )
    p_run.add_argument("--notebooks", default=None, help="comma-separated notebook names or numbers, e.g. 01,03")
    p_run.add_argument("--in-place", action="store_true", help="re-execute the committed notebooks in place")
    p_student = sub.add_parser("student", help="write the notebooks without their solution cells")
    p_student.add_argument("--out", default="build/student", help="folder for the student edition")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the subcommand; return the exit status (2: bad input)."""
    from .data import DatasetError, ensure_mnist

    args = parser().parse_args(argv)
    try:
        if args.command == "data":
            print(f"MNIST is ready in {ensure_mnist(args.root, mirror=args.mirror)}")
            return 0
        from .course import run_course, write_student_edition

        if args.command == "student":
            written = write_student_edition(args.out)
            print(f"wrote {len(written)} notebooks without their solutions to {written[0].parent}")
            return 0
        return run_course(args.name, args.params, args.param, args.notebooks, args.in_place)
    except (DatasetError, ValueError) as exc:  # missing data, a bad parameters file or notebook name: no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 1 if args.command == "data" else 2


if __name__ == "__main__":
    sys.exit(main())
