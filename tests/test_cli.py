"""The command line as a user meets it: transcript on stdout, one clear line for bad input."""
import re

import sphn
import numpy as np
import pytest
import torch

from conftest import DEMO_EN, DEMO_FR, TINY_HIBIKI, TINY_STT, captty
from engine_run import run


def assert_one_clear_line(result, *fragments):
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("captty: ")
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_run_prints_the_transcript_on_stdout_and_stats_on_stderr(tiny_stt):
    result = captty("run", DEMO_EN, "--model", TINY_STT)
    assert result.returncode == 0, result.stderr
    expected = run(tiny_stt, DEMO_EN).text[0].strip()
    assert expected and result.stdout == expected + "\n"
    assert "ms/step" in result.stderr and "real-time factor" in result.stderr
    # one step per whole frame of the padded input: 1 s of prefix, 0.5 s of delay + 1 s of flush
    samples = sphn.read(str(DEMO_EN))[0].shape[1]
    assert f"processed {(samples + 24000 + 36000) // 1920} steps" in result.stderr


def test_demo_runs_offline_and_prints_the_demo_sentence():
    """`captty demo` replays the held-out demo recording with the trained demo model: the
    transcript is the sentence eSpeak says (measured: every word right; allowed: one wrong),
    and the WER against it is printed."""
    result = captty("demo", "--fast", env={"HF_HUB_OFFLINE": "1"})  # no TTY: the printer
    assert result.returncode == 0, result.stderr
    said = "captty shows live speech as text in the terminal"
    printed = result.stdout.split()
    assert len(printed) <= 10 and sum(w in printed for w in said.split()) >= 8, result.stdout
    assert f'"{said}"' in result.stderr and "demo-stt" in result.stderr
    wer = re.search(r"WER [\d.]+% \((\d+) errors / 9 words\)", result.stderr)
    assert wer and int(wer.group(1)) <= 1, (result.stdout, result.stderr)
    assert "captty replay --hf-repo kyutai/stt-1b-en_fr" in result.stderr


def test_hibiki_writes_one_wav_per_batch_item(tmp_path):
    out = tmp_path / "translated.wav"
    result = captty("run", DEMO_FR, out, "--model", TINY_HIBIKI, "--batch-size", "2",
                    "--cfg-coef", "3", "--max-tail", "1")
    assert result.returncode == 0, result.stderr
    for i in range(2):
        pcm, rate = sphn.read(str(tmp_path / f"translated-{i}.wav"))
        assert rate == 24000 and pcm.shape[1] > 24000 * 4  # about as long as the input
        assert np.abs(pcm).max() > 0
    assert not out.exists()


@pytest.mark.parametrize("make,args,fragments", [
    (None, ["missing.wav"], ["missing.wav", "no such file"]),
    ("text", ["notes.wav"], ["not an audio file"]),
    ("empty", ["empty.wav"], ["not an audio file"]),
])
def test_bad_input_files(tmp_path, make, args, fragments):
    path = tmp_path / args[0]
    if make == "text":
        path.write_text("not audio\n" * 50)
    elif make == "empty":
        path.write_bytes(b"")
    result = captty("run", path, "--model", TINY_STT)
    assert_one_clear_line(result, *fragments)


def test_folder_without_config(tmp_path):
    result = captty("run", DEMO_EN, "--model", tmp_path)
    assert_one_clear_line(result, "no config.json")


def test_unknown_model_name():
    result = captty("run", DEMO_EN, "--model", "not-a-model")
    assert_one_clear_line(result, "not a checkpoint folder, a bundled model")


def test_repository_that_cannot_be_fetched_offline():
    result = captty("run", DEMO_EN, "--hf-repo", "kyutai/no-such-model-here",
                    env={"HF_HUB_OFFLINE": "1"})
    assert_one_clear_line(result, "cannot fetch 'kyutai/no-such-model-here'", "--model PATH")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_asked_for_where_there_is_none():
    result = captty("run", DEMO_EN, "--model", TINY_STT, "--device", "cuda")
    assert_one_clear_line(result, "no CUDA GPU")


def test_a_random_shape_with_a_checkpoint_is_refused():
    result = captty("run", DEMO_EN, "--shape", "stt-1b", "--model", TINY_STT, "--device", "cpu")
    assert_one_clear_line(result, "--shape builds a random model: it does not go with --model")


def test_debug_shows_the_traceback(tmp_path):
    result = captty("--debug", "run", tmp_path / "missing.wav", "--model", TINY_STT)
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "no such file" in result.stderr


def test_ctrl_c_mid_stream_keeps_the_transcript_and_exits_130(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    from conftest import ROOT

    long = tmp_path / "long.wav"
    speech = sphn.read(str(DEMO_EN))[0]
    sphn.write_wav(str(long), np.tile(speech, (1, 30)), sample_rate=24000)  # three minutes
    proc = subprocess.Popen([sys.executable, "-m", "captty.tui.cli", "run", str(long), "--model",
                             str(TINY_STT)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=dict(os.environ))
    first = proc.stdout.read(20)  # the transcript has started
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=60)
    err = err.decode()
    assert proc.returncode == 130
    assert err.strip().splitlines()[-1] == "captty: stopped by SIGINT (what was transcribed is kept)"
    assert "Traceback" not in err
    assert len(first) == 20 and (first + rest).decode().endswith("\n")
    steps = int(err.split("processed ")[1].split(" steps")[0])
    assert 0 < steps < 30 * 6 * 12.5  # stopped well before the end of the file
