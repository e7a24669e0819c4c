"""Broken checkpoints: each gets one line that names the file at fault and says what is wrong."""
import json
import shutil

import pytest

from captty.engine import CapttyError, ModelSpec, load_model
from conftest import DEMO_EN, TINY_HIBIKI, TINY_STT, captty


def broken(tmp_path, source, change, name="model"):
    folder = tmp_path / name
    shutil.copytree(source, folder)
    change(folder)
    return folder


def edit_json(path, change):
    config = json.loads(path.read_text())
    change(config)
    path.write_text(json.dumps(config))


def config(change):
    return lambda folder: edit_json(folder / "config.json", change)


CASES = [
    (TINY_STT, config(lambda c: c.pop("dim")), "config.json' lacks 'dim'"),
    (TINY_STT, config(lambda c: c.update(num_layers="two")),
     "config.json' gives 'num_layers' as 'two': a whole number is needed"),
    (TINY_STT, config(lambda c: c.update(colour="blue")),
     "config.json' has a key the model does not know: 'colour'"),
    (TINY_STT, config(lambda c: c.update(num_layers=c["num_layers"] + 1)),
     "model.safetensors' does not match '{folder}/config.json': 6 weights missing "
     "(e.g. transformer.layers.2."),
    (TINY_STT, config(lambda c: c.update(dim=c["dim"] * 2)),
     "model.safetensors' does not match '{folder}/config.json': "),
    (TINY_STT, lambda f: (f / "tokenizer.model").write_text("not a sentencepiece model\n"),
     "tokenizer.model' is not a sentencepiece tokenizer model"),
    (TINY_STT, lambda f: edit_json(f / "mimi_config.json",
                                   lambda c: c["seanet"].update(dimension=1024)),
     "mimi.safetensors' does not match '{folder}/mimi_config.json': "),
    # a Hibiki whose conditioner (the LUT of the `description` condition) disagrees with its weights
    (TINY_HIBIKI, config(lambda c: c["conditioners"]["description"]["lut"].update(dim=7)),
     "model.safetensors' does not match '{folder}/config.json': 2 of another shape "
     "(e.g. condition_provider.conditioners.description."),
]


@pytest.mark.parametrize("source,change,message", CASES)
def test_a_broken_checkpoint_names_its_file_and_what_is_wrong(tmp_path, source, change, message):
    folder = broken(tmp_path, source, change)
    with pytest.raises(CapttyError) as caught:
        load_model(ModelSpec(model=str(folder), device="cpu"))
    text = str(caught.value)
    assert "\n" not in text and text.startswith(f"'{folder}/")
    assert message.format(folder=folder) in text


def test_the_command_line_gives_one_line_and_no_traceback(tmp_path):
    folder = broken(tmp_path, TINY_STT, config(lambda c: c.update(colour="blue")))
    result = captty("run", "--model", folder, "--device", "cpu", DEMO_EN)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == f"captty: '{folder}/config.json' has a key the model does not know: 'colour'"
    assert "Traceback" not in result.stderr
