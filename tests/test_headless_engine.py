"""engine/ is a headless library: importing any of its modules never pulls in Textual or click."""
import pkgutil
import subprocess
import sys

from captty import engine


def test_engine_modules_import_neither_textual_nor_click():
    names = [f"captty.engine.{m.name}" for m in pkgutil.iter_modules(engine.__path__)]
    assert "captty.engine.session" in names and "captty.engine.step_loop" in names
    code = ("import importlib, sys\n"
            f"for name in {names!r}: importlib.import_module(name)\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'click') or m.startswith('captty.tui'))\n"
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
