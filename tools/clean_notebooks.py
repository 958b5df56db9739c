"""Strip volatile metadata from notebooks, as `make notebooks` does after a run: the pre-commit hook calls this.

    python tools/clean_notebooks.py notebooks/04_training.ipynb [...]

It applies the runner's own ``clean`` (tools/run_course.py): papermill's metadata and execution timestamps go, the
outputs stay. A notebook that holds papermill's injected parameters is refused: commit the notebook itself, not the
output of a run with parameters. Exit status 1 when a file was changed or refused (pre-commit then shows the diff).
"""

from __future__ import annotations

import sys
from pathlib import Path

from run_course import UsageError, clean


def main(paths: list[str]) -> int:
    """Clean each notebook in ``paths``; return 1 when one changed or was refused, else 0."""
    status = 0
    for name in paths:
        path = Path(name)
        before = path.read_bytes()
        try:
            clean(path)
        except UsageError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 1
            continue
        if path.read_bytes() != before:
            print(f"cleaned {name}")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
