"""The microphone path through sounddevice and PortAudio for real, on a virtual capture device.

ALSA's `file` plugin over its `null` device is a capture device whose samples are read from a
file: PortAudio sees it as the default input. It is not paced in real time, so the test takes a
fixed number of frames. Each test runs in its own process, since PortAudio reads the ALSA
configuration ($HOME/.asoundrc) once, when sounddevice is imported.
"""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import sphn

from conftest import DEMO_EN, ROOT

FRAMES = 60


def portaudio_available() -> bool:
    probe = subprocess.run([sys.executable, "-c", "import sounddevice"], capture_output=True)
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(not portaudio_available(),
                                reason="the PortAudio library (libportaudio2) is not installed")


@pytest.fixture
def virtual_mic(tmp_path):
    """$HOME with an .asoundrc whose default capture device plays the demo recording."""
    recording = sphn.read(str(DEMO_EN))[0][0].astype("<f4")
    (tmp_path / "in.raw").write_bytes(recording.tobytes())
    (tmp_path / ".asoundrc").write_text(textwrap.dedent(f"""\
        pcm.!default {{
            type file
            slave.pcm "null"
            file "/dev/null"
            infile "{tmp_path / 'in.raw'}"
            format "raw"
        }}
        """))
    return tmp_path, recording


def run_in(home, code):
    env = dict(os.environ, HOME=str(home), PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_frames_come_through_portaudio_bit_exact(virtual_mic):
    home, recording = virtual_mic
    run_in(home, textwrap.dedent(f"""\
        import asyncio, contextlib, numpy as np
        from captty.engine import MicrophoneSource
        MicrophoneSource.check()
        async def main():
            frames = []
            source = MicrophoneSource(max_backlog=400.0)  # this device is not paced: keep all
            async with contextlib.aclosing(source.__aiter__()) as stream:
                async for frame in stream:
                    frames.append(frame)
                    if len(frames) == {FRAMES}:
                        break
            np.save("{home / 'got.npy'}", np.concatenate(frames))
        asyncio.run(main())
        """))
    got = np.load(home / "got.npy")
    np.testing.assert_array_equal(got, recording[: FRAMES * 1920])


def test_devices_lists_the_virtual_device(virtual_mic):
    home, _ = virtual_mic
    env = dict(os.environ, HOME=str(home))
    out = subprocess.run([sys.executable, "-m", "captty.tui.cli", "devices"], capture_output=True,
                         text=True, env=env, cwd=ROOT, timeout=60)
    assert out.returncode == 0 and "default" in out.stdout and "<- default input" in out.stdout
