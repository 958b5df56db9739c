"""Issue 26, item 6 and issue 31, item 8: three tuning workers, separate processes, share one study on a real
PostgreSQL server through notebook 11b's code and a ``postgresql://`` URL, as workers on several machines would; one
of them is killed in the middle of a trial, whose heartbeat then stops.

The test starts its own throwaway server (Debian's ``postgresql`` package: ``initdb`` and ``pg_ctl`` from
``/usr/lib/postgresql/*/bin``) on a free local port and a data folder in a temporary folder, and stops it after.
PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` user.
Without a server installed, or without the driver of ``postgresql://`` URLs (``psycopg``), the test is skipped with
the reason; ``MNIST_LAB_REQUIRE_POSTGRES=1`` (set by ``.ci/run``) makes that a failure instead.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from test_tuning import check_shared_study, finish_workers, start_workers, the_study

REQUIRED = os.environ.get("MNIST_LAB_REQUIRE_POSTGRES") == "1"


def unavailable(reason: str):
    """Skip with ``reason``, or fail where PostgreSQL is required (``MNIST_LAB_REQUIRE_POSTGRES=1``)."""
    if REQUIRED:
        pytest.fail(f"MNIST_LAB_REQUIRE_POSTGRES=1, but {reason}", pytrace=False)
    pytest.skip(reason)


def server_programs() -> Path | None:
    """Return the folder holding ``initdb`` and ``pg_ctl`` (the newest PostgreSQL installed), or None."""
    folders = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), reverse=True)
    on_path = shutil.which("pg_ctl")
    if on_path:
        folders.append(Path(on_path).resolve().parent)
    return next((f for f in folders if (f / "initdb").is_file() and (f / "pg_ctl").is_file()), None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def postgres_url():
    """Start a throwaway PostgreSQL server; yield its URL; stop it and delete its data."""
    programs = server_programs()
    if programs is None:
        unavailable("no PostgreSQL server is installed (initdb and pg_ctl): apt-get install postgresql")
    driver = make_url("postgresql://").get_dialect().driver  # SQLAlchemy 2.1: psycopg (3); 2.0: psycopg2
    if importlib.util.find_spec(driver) is None:
        package = {"psycopg": "'psycopg[binary]'", "psycopg2": "psycopg2-binary"}.get(driver, driver)
        unavailable(f"{driver}, the driver of postgresql:// URLs, is not installed: pip install {package}")
    as_user: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="mnist-lab-postgres-"))
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        import pwd

        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(folder)
            unavailable("running as root, and there is no 'postgres' user to run the server as")
        os.chown(folder, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", free_port()
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50"
    run = lambda *args: subprocess.run([*as_user, *args], capture_output=True, text=True, timeout=120)  # noqa: E731
    pg_ctl = [str(programs / "pg_ctl"), "-D", str(data)]
    try:
        initdb = [str(programs / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-N"]
        done = run(*initdb, "--locale=C", "-E", "UTF8")  # UTF8: the driver reads text as str, not bytes
        assert done.returncode == 0, done.stderr[-2000:]
        done = run(*pg_ctl, "-l", str(folder / "server.log"), "-o", options, "-w", "-t", "60", "start")
        assert done.returncode == 0, done.stderr[-2000:] + (folder / "server.log").read_text()[-2000:]
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        run(*pg_ctl, "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def test_three_workers_share_one_study_on_postgresql_and_a_killed_workers_trial_is_run_again(postgres_url, tmp_path):
    """Three processes start together on a new database: they race to create its tables and the study, whose trial
    0 is the baseline. Worker 1 is killed (SIGKILL) in its second trial. Its trial's heartbeat stops: a live worker
    fails it once it is stale, and it runs again, once, in a live worker, with the same configuration. The study
    ends with 9 finished trials, none running, no configuration finished twice; only worker 0 judges the search."""
    procs = start_workers(postgres_url, tmp_path, numbers=(0, 1, 2), n_trials=9, killed=1, heartbeat=2)
    results = finish_workers(procs, killed=1)
    check_shared_study([results[0]["ran"], 2, results[2]["ran"]], the_study(postgres_url, tmp_path), killed=True)
    assert results[0]["ran"] >= 1 and results[2]["ran"] >= 1  # every live worker did some of the work
