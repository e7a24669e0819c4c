import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"
TINY_STT = ASSETS / "models" / "tiny-stt"
TINY_HIBIKI = ASSETS / "models" / "tiny-hibiki"
DEMO_EN = ASSETS / "audio" / "demo-en.wav"
DEMO_FR = ASSETS / "audio" / "demo-fr.wav"
SHARED_AUDIO = ROOT.parent / "shared" / "audio"


def load(folder):
    from captty.engine import ModelSpec, load_model

    # CAPTTY_TEST_DEVICE=cuda runs the parity tests on a GPU (bf16); CI has none
    return load_model(ModelSpec(model=str(folder), device=os.environ.get("CAPTTY_TEST_DEVICE",
                                                                         "cpu")))


@pytest.fixture(scope="session")
def tiny_stt():
    return load(TINY_STT)


@pytest.fixture(scope="session")
def tiny_hibiki():
    return load(TINY_HIBIKI)


@pytest.fixture
def shared_audio():
    if not SHARED_AUDIO.is_dir():
        pytest.skip("the shared recordings (../shared/audio) are not here")
    return SHARED_AUDIO


def captty(*args, env=None, timeout=300):
    """Run the installed `captty` command line the way a user does."""
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-m", "captty.tui.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT, env=full_env, timeout=timeout)
