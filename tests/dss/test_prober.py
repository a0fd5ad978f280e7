"""InterUSS's own DSS prober (``monitoring.prober.scd`` from the PyPI wheel ``interuss-monitoring``) against
a real ``deconflict serve`` with the DSS interface on, on each backend.

The prober needs Python 3.13 and runs from its own virtual environment, made by ``make prober``
(tools/prober-venv.sh). Its ``NoAuth`` tokens are signed with a test key that ships in the wheel; the
public half is derived from the installed package here, at run time. Without that environment the test
skips with the reason, unless DECONFLICTION_REQUIRE_PROBER=1 (.ci/run): then it fails.

Three of its files read request bodies from ``./scd/resources``, which the wheel does not ship: the
prober runs on InterUSS's own files when tools/prober-venv.sh could put them in its environment, and
otherwise on the bodies of tests/dss/prober_requests.py (written here, one fault per error case).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_postgres_database, need
from tests.dss import prober_requests

ROOT = Path(__file__).resolve().parents[2]
PROBER_VENV = Path(os.environ.get("DECONFLICTION_PROBER_VENV", ROOT / ".venv-prober"))
PROBER_PYTHON = PROBER_VENV / "bin" / "python"
REQUIRED = "DECONFLICTION_REQUIRE_PROBER" if os.environ.get("DECONFLICTION_REQUIRE_PROBER") == "1" else None
EXPECTED = 173
"""The strategic-coordination tests of interuss-monitoring 0.37.0."""
RESOURCE_FILES = (
    "test_operation_references_error_cases.py",
    "test_operation_references_state_transition.py",
    "test_operation_special_cases.py",
)
"""The prober's files that read request bodies from scd/resources, which its wheel does not ship."""

pytestmark = [pytest.mark.xdist_group("dss-prober")]

_PROBER_DIR = "import os, monitoring.prober as p; print(os.path.dirname(p.__file__))"
_PUBLIC_KEY = (
    "import sys\n"
    "from monitoring.monitorlib.auth import NoAuth\n"
    "sys.stdout.buffer.write(NoAuth.dummy_private_key.export_to_pem(private_key=False, password=None))\n"
)


def _server_class() -> Any:
    spec = importlib.util.spec_from_file_location("bench_servers", ROOT / "bench" / "servers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_servers"] = module
    spec.loader.exec_module(module)
    return module.Server


def _prober_missing() -> str | None:
    if not PROBER_PYTHON.exists():
        return f"no prober environment at {PROBER_VENV.name}/ (make prober: needs Python 3.13)"
    return None


def _tally(junit: Path) -> dict[str, int]:
    suite = ET.parse(junit).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")  # type: ignore[assignment]
    assert suite is not None
    tests, failures, errors, skipped = (int(suite.get(k, "0")) for k in ("tests", "failures", "errors", "skipped"))
    return {
        "passed": tests - failures - errors - skipped,
        "failed": failures,
        "errors": errors,
        "skipped": skipped,
    }


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/dss.db"
        return
    url, drop = make_postgres_database()
    yield url
    drop()


def test_the_interuss_prober_passes_every_strategic_coordination_test(database_url: str, tmp_path: Path) -> None:
    need(_prober_missing(), REQUIRED)
    key = tmp_path / "noauth-public.pem"
    key.write_bytes(subprocess.run([str(PROBER_PYTHON), "-c", _PUBLIC_KEY], check=True, capture_output=True).stdout)
    prober_dir = subprocess.run([str(PROBER_PYTHON), "-c", _PROBER_DIR], check=True, capture_output=True, text=True)
    server = _server_class()(
        database_url,
        tmp_path,
        env={
            "DECONFLICTION_DSS_PUBLIC_KEYS": str(key),
            "DECONFLICTION_DSS_AUDIENCES": "127.0.0.1,localhost",
        },
    )
    try:
        server.wait_ready()
        prober = Path(prober_dir.stdout.strip())
        if (prober / "scd" / "resources").is_dir():  # InterUSS's own, put there by tools/prober-venv.sh
            cwd, target, where = prober, ["scd"], "InterUSS's request bodies"
        else:  # ours, in a folder of this test's, the prober run from there (it reads ./scd/resources)
            read = {
                m
                for name in RESOURCE_FILES
                for m in re.findall(r"scd/resources/([\w.]+)", (prober / "scd" / name).read_text())
            }
            assert read <= set(prober_requests.FILES), (
                f"bodies the prober reads and we lack: {read - set(prober_requests.FILES)}"
            )
            cwd = tmp_path / "prober-run"
            prober_requests.write(cwd / "scd" / "resources")
            target, where = (
                [f"--rootdir={prober}", str(prober / "scd")],
                "tests/dss/prober_requests.py's request bodies",
            )
        junit = tmp_path / "prober.xml"
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "LANG": "C.UTF-8"}
        run = subprocess.run(
            [
                str(PROBER_PYTHON),
                "-m",
                "pytest",
                *target,
                "-p",
                "no:cacheprovider",
                "-q",
                "-rfEs",
                f"--junitxml={junit}",
                f"--dss-endpoint={server.url}",
                "--scd-auth1=NoAuth(sub=uss1)",
                "--scd-auth2=NoAuth(sub=uss2)",
            ],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert junit.exists(), f"the prober did not run:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
        tally = _tally(junit)
        print(f"InterUSS prober on {database_url.split(':')[0]}, {where}: {tally}")
        summary = "\n".join(run.stdout.splitlines()[-60:])
        expected = {"passed": EXPECTED, "failed": 0, "errors": 0, "skipped": 0}
        assert tally == expected, f"{tally}\n{summary}\n--- server log ---\n{server.log_tail()}"
    finally:
        server.stop()
