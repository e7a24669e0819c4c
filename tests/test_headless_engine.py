"""The engine is a headless library with a small public API, and `captty.tui` keeps to it.

- importing any engine module never pulls in Textual, click or the tui;
- tui/ imports from the engine only `captty.engine` (its `__init__`) and the one documented
  extra entry point, `captty.engine.bench` (for `captty bench`, imported lazily);
- the tiny checkpoints' builder, the training code and the reference loop stay off the runtime
  import path: running the CLI's commands never imports them.
"""
import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

from captty import engine, tui

ALLOWED_FROM_TUI = {"captty.engine", "captty.engine.bench"}
OFF_THE_RUNTIME_PATH = ("captty.engine.checkpoint_builder", "captty.engine.reference_loop",
                        "captty.engine.training")


def engine_modules() -> list[str]:
    return [m.name for m in pkgutil.walk_packages(engine.__path__, "captty.engine.")
            if not m.name.startswith("captty.engine.training")]


def test_engine_modules_import_neither_textual_nor_click():
    names = engine_modules()
    assert "captty.engine.session" in names and "captty.engine.step_loop" in names
    code = ("import importlib, sys\n"
            f"for name in {names!r}: importlib.import_module(name)\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'click')\n"
            "             or m.startswith('captty.tui'))\n"
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def engine_imports(path: Path) -> list[str]:
    """Every engine module a tui source file imports, lazily or not."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("captty.engine"):
                found.append(node.module)
            elif node.module == "captty":
                found += [f"captty.{a.name}" for a in node.names if a.name == "engine"]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("captty.engine")]
    return found


def test_tui_uses_only_the_engines_public_api():
    files = sorted(Path(tui.__path__[0]).rglob("*.py"))
    assert len(files) > 10
    used = {(f.name, m) for f in files for m in engine_imports(f)}
    assert used, "the tui imports the engine somewhere"
    assert {(f, m) for f, m in used if m not in ALLOWED_FROM_TUI} == set()


def test_running_the_cli_leaves_the_builder_and_the_reference_loop_unimported():
    code = ("import sys\n"
            "from captty.tui.cli import main\n"
            "try:\n"
            "    main(['run', '--model', 'tiny-stt', '--device', 'cpu', sys.argv[1]])\n"
            "except SystemExit:\n"
            "    pass\n"
            f"print('imported:', *(m for m in {OFF_THE_RUNTIME_PATH!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, str(engine.bundled_audio("demo-en.wav"))],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "processed" in out.stderr  # it did run
    assert out.stdout.splitlines()[-1] == "imported:"
