"""captty installed the way Python tools are: a wheel in a fresh virtual environment, no source tree.

The environment reuses the dependencies already installed here (a `.pth` file pointing at this
interpreter's site-packages), so the test downloads nothing; the wheel itself must carry the
bundled checkpoints and recordings.
"""
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from conftest import ROOT


def sh(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600,
                          **kwargs)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh venv holding only captty's wheel (plus a path to the dependencies)."""
    work = tmp_path_factory.mktemp("wheel")
    # from a copy: setuptools builds in the tree's build/, where stale modules would linger
    tree = work / "tree"
    shutil.copytree(ROOT, tree, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache"))
    built = sh(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
               "-w", work / "dist", tree)
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next((work / "dist").glob("captty-*.whl"))
    venv = work / "venv"
    made = sh(sys.executable, "-m", "venv", "--without-pip", venv)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    site = Path(sh(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
                .stdout.strip())
    (site / "captty-test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    added = sh(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps",
               "--no-index", wheel)
    assert added.returncode == 0, added.stderr[-2000:]
    outside = work / "elsewhere"  # no source tree in reach of the working folder
    outside.mkdir()
    return venv, outside


def test_the_wheel_holds_engine_tui_and_assets_under_captty(installed):
    venv, outside = installed
    code = ("import captty.engine, captty.tui.cli, captty.engine.bundled as b\n"
            "print(captty.engine.__file__)\nprint(b.bundled_models())")
    out = sh(venv / "bin" / "python", "-c", code, cwd=outside)
    assert out.returncode == 0, out.stderr
    where, models = out.stdout.splitlines()
    assert where.startswith(str(venv)) and str(ROOT) not in where
    assert "tiny-stt" in models and "tiny-hibiki" in models and "demo-stt" in models
    # generic top-level names would collide with other projects' packages
    assert sh(venv / "bin" / "python", "-c", "import engine", cwd=outside).returncode != 0
    assert sh(venv / "bin" / "python", "-c", "import tui", cwd=outside).returncode != 0


def test_installed_demo_and_run_use_the_bundled_files(installed):
    venv, outside = installed
    captty = venv / "bin" / "captty"
    demo = sh(captty, "demo", "--no-tui", "--fast", cwd=outside)
    assert demo.returncode == 0, demo.stderr
    assert "processed" in demo.stderr and demo.stdout.strip()
    # the trained demo model, its held-out recording and the recording's text (the reference)
    said = "captty shows live speech as text in the terminal".split()
    assert sum(w in demo.stdout.split() for w in said) >= 8, demo.stdout
    assert "WER " in demo.stderr and f"{venv}/" in demo.stderr and str(ROOT) not in demo.stderr
    audio = sh(venv / "bin" / "python", "-c",
               "from captty.engine.bundled import bundled_audio; print(bundled_audio('demo-fr.wav'))",
               cwd=outside).stdout.strip()
    assert audio.startswith(str(venv))
    run = sh(captty, "run", "--model", "tiny-stt", "--device", "cpu", audio, cwd=outside)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() and "processed" in run.stderr
