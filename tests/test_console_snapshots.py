"""Snapshots of the main screen, for STT and for Hibiki, from scripted feeds (stable runs).

After an intended change of the screen: `pytest tests/test_console_snapshots.py --snapshot-update`.
"""
import pytest

from console_script import hibiki_script, stt_script
from captty.tui.app import CapttyApp, ConsoleView
from captty.tui.feeds import ScriptedFeed


def console(events, title):
    return CapttyApp(ScriptedFeed(events, hold=True), ConsoleView(title))


async def until_drawn(pilot, done):
    for _ in range(200):
        await pilot.pause(0.05)
        if done(pilot.app):
            break
    pilot.app.redraw(everything=True)
    await pilot.pause(0.1)


def test_stt_screen(snap_compare):
    app = console(stt_script(), "captty · kyutai/stt-1b-en_fr · stt · cuda:0 · bfloat16 · batch 1")
    assert snap_compare(app, terminal_size=(100, 30),
                        run_before=lambda pilot: until_drawn(pilot, lambda a: a.state.ended))


def test_hibiki_screen(snap_compare):
    app = console(hibiki_script(), "captty · kyutai/hibiki-2b · hibiki · cuda:0 · bfloat16 · batch 2")
    assert snap_compare(app, terminal_size=(100, 30),
                        run_before=lambda pilot: until_drawn(pilot, lambda a: len(a.state.states) == 2
                                                             and a.state.steps >= 12))


def test_stt_screen_at_80x24(snap_compare):
    app = console(stt_script(), "captty · kyutai/stt-1b-en_fr · stt · cuda:0 · bfloat16 · batch 1")
    assert snap_compare(app, terminal_size=(80, 24),
                        run_before=lambda pilot: until_drawn(pilot, lambda a: a.state.ended))


STT_TITLE = "captty · kyutai/stt-1b-en_fr · stt · cuda:0 · bfloat16 · batch 1"


def finished(pilot):
    return until_drawn(pilot, lambda a: a.state.ended)


@pytest.mark.parametrize("size", [(40, 12), (200, 60)])
def test_stt_screen_small_and_large(snap_compare, size):
    """At 40x12 the transcript takes the width and the figures fold into one line."""
    assert snap_compare(console(stt_script(), STT_TITLE), terminal_size=size, run_before=finished)


@pytest.mark.parametrize("start,end", [((200, 60), (40, 12)), ((40, 12), (80, 24))])
def test_stt_screen_after_a_resize(snap_compare, start, end):
    async def resized(pilot):
        await finished(pilot)
        await pilot.resize_terminal(*end)
        await until_drawn(pilot, lambda a: True)

    assert snap_compare(console(stt_script(), STT_TITLE), terminal_size=start, run_before=resized)
