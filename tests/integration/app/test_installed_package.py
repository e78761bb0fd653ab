"""The product as ``pip install`` gives it: the wheel built from this tree, installed into a
fresh virtual environment outside it, run from a folder that is not the source tree.

The wheel's own dependencies are not downloaded again (that takes a minute here): the new
environment sees this one's site-packages through a ``.pth`` line, which adds its folder to
``sys.path`` without running its ``.pth`` files, so the editable install of the source tree
stays out and ``ivr`` can only come from the wheel (the test checks that it does).
"""

from __future__ import annotations

import os
import re
import shutil
import site
import subprocess
import sys
import sysconfig
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from served import ivr_serve
from start_date import CLOCK_ENV, OPEN

from integration.support import ROOT

pytestmark = pytest.mark.slow

#: Left out of the copy the wheel is built from: what a clean clone does not have.
NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "var",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".*_cache",
    ".hypothesis",
    "*.wav",  # rendered prompt audio (ivr prompts build), not source
)


@dataclass(frozen=True)
class Installed:
    bin: Path
    work: Path
    env: dict[str, str]

    def ivr(
        self, *args: str, cwd: Path | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bin / "ivr"), *args],
            cwd=cwd or self.work,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def _run(*argv: str | Path, cwd: Path, timeout: float = 240) -> None:
    done = subprocess.run(
        [str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{' '.join(map(str, argv))}:\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel of this tree installed into a new venv; a work folder outside both."""
    base = tmp_path_factory.mktemp("installed")
    source, dist, venv, work = (base / name for name in ("src", "dist", "venv", "work"))
    shutil.copytree(ROOT, source, symlinks=True, ignore=NOT_SOURCE)
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, ".", cwd=source)
    (wheel,) = dist.glob("ivr-*.whl")
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=base)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = {sysconfig.get_paths()["purelib"], *site.getsitepackages()}
    Path(purelib, "zz_test_dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    _run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "--no-deps",
        "--no-index",
        "-q",
        wheel,
        cwd=base,
    )
    work.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("IVR_", "PYTHON")) and key != "VIRTUAL_ENV"
    }
    env |= {
        "IVR_DATABASE_URL": f"sqlite:///{work / 'var' / 'ivr.sqlite3'}",
        "PYTHONUNBUFFERED": "1",
        CLOCK_ENV: OPEN,
    }
    return Installed(venv / "bin", work, env)


def test_an_installed_copy_refuses_to_run_without_a_flow_and_says_how_to_get_one(
    installed: Installed, tmp_path: Path
) -> None:
    done = installed.ivr("validate", cwd=tmp_path)
    assert done.returncode == 1
    assert "callflows.yaml:1:1: cannot read file" in done.stderr
    assert "IVR_FLOW" in done.stderr and "ivr init" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.fixture
def served(installed: Installed) -> Iterator[str]:
    """``ivr init`` (the packaged default hotline), ``ivr validate --schema`` (the packaged
    schema), ``db upgrade``, ``seed --demo``, then ``ivr serve --no-fastagi --port 0`` from
    the installed copy."""
    for args in (("init",), ("validate", "--schema"), ("db", "upgrade"), ("seed", "--demo")):
        done = installed.ivr(*args)
        assert done.returncode == 0, f"ivr {' '.join(args)}: {done.stderr}"
    command = [str(installed.bin / "ivr"), "serve", "--no-fastagi", "--port", "0"]
    with ivr_serve(command, installed.env, installed.work) as serving:
        yield serving.url
    assert serving.process.returncode == 0, serving.stopped


def _get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            body = answer.read(1_000_000).decode("utf-8", "replace")
            return answer.status, answer.headers.get("Content-Type", ""), body
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), ""


def test_the_installed_package_is_not_the_source_tree(installed: Installed) -> None:
    where = subprocess.run(
        [str(installed.bin / "python"), "-c", "import ivr; print(ivr.__file__)"],
        cwd=installed.work,
        env=installed.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(installed.bin.parent), where


def test_an_installed_copy_serves_the_sign_in_page_its_stylesheet_and_api_description(
    served: str,
) -> None:
    status, kind, page = _get(f"{served}/login")
    assert status == 200, f"/login answered {status}"
    assert kind.startswith("text/html")
    found = re.search(r'<link rel="stylesheet" href="([^"]+)"', page)
    assert found, "the sign-in page links no stylesheet"
    status, kind, css = _get(served + found.group(1))
    assert status == 200, f"{found.group(1)} answered {status}"
    assert kind.startswith("text/css") and "{" in css

    status, kind, body = _get(f"{served}/api/openapi.json")  # the API's description
    assert status == 200 and kind.startswith("application/json")
    assert '"openapi":"3.1.0"' in body.replace(" ", "")
