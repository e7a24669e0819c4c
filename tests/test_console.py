"""The Textual console driven by a scripted feed (layout, keys) and by the real engine."""
import asyncio

import pytest

from conftest import DEMO_EN
from console_script import WORDS, hibiki_script, stt_script
from captty.engine import FileSource, ItemState
from engine_run import run
from captty.tui.app import CapttyApp, ConsoleView, HelpScreen
from captty.tui.console import console_app
from captty.tui.console_state import ConsoleState
from captty.tui.feeds import ScriptedFeed
from captty.tui.options import StreamOptions
from captty.tui.widgets.transcript import TranscriptView, split_line


async def settle(pilot, until, timeout=30.0):
    for _ in range(int(timeout / 0.05)):
        await pilot.pause(0.05)
        if until():
            pilot.app.redraw(everything=True)
            await pilot.pause(0.1)
            return
    raise AssertionError("the console never got there")


def app_for(events, tmp_path=None, hold=True, delay=0.0):
    feed = ScriptedFeed(events, delay=delay, hold=hold)
    save = tmp_path / "transcript.txt" if tmp_path else None
    return CapttyApp(feed, ConsoleView("captty · scripted", save_path=save))


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
async def test_layout_shows_text_latency_status_and_end_of_stream(size):
    app = app_for(stt_script())
    async with app.run_test(size=size) as pilot:
        await settle(pilot, lambda: app.state.ended is not None)
        view = app.query_one(TranscriptView)
        assert view.text.split() == WORDS
        assert view.lines, "long text moves up into the history"
        latency = str(app.query_one("#latency").render())
        assert "p95" in latency and "1 over" in latency  # one step of 95 ms > 80 ms budget
        status = str(app.query_one("#status").render())
        assert "rtf" in status and "end of turn" in status
        assert "eos reached" in str(app.query_one("#eos").render())
        assert "[finished]" in str(app.query_one("#top").render())


async def test_space_pauses_and_resumes_the_feed():
    app = app_for(stt_script(), delay=0.01)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, lambda: app.state.steps > 5)
        await pilot.press("space")
        assert app.feed.paused and "[paused]" in str(app.query_one("#top").render())
        steps = app.state.steps
        await pilot.pause(0.3)
        assert app.state.steps == steps  # nothing moves while paused
        await pilot.press("space")
        assert not app.feed.paused
        await settle(pilot, lambda: app.state.steps > steps)


async def test_save_copy_help_and_quit(tmp_path):
    app = app_for(stt_script(), tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, lambda: app.state.ended is not None)
        await pilot.press("s")
        assert (tmp_path / "transcript.txt").read_text().split() == WORDS
        await pilot.press("c")
        assert app.clipboard.split() == WORDS
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("q")  # closes the help, and only that
        assert not isinstance(app.screen, HelpScreen) and app.is_running
        (tmp_path / "transcript.txt").unlink()
        await pilot.press("q")
    assert app.return_value.saved_to == tmp_path / "transcript.txt"
    assert (tmp_path / "transcript.txt").read_text().split() == WORDS
    assert app.return_value.finished and app.feed.stopped


async def test_ctrl_c_mid_stream_saves_what_was_transcribed(tmp_path):
    app = app_for(stt_script(), tmp_path, delay=0.02)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: len(app.transcript.split()) >= 3)
        await pilot.press("ctrl+c")
    saved = (tmp_path / "transcript.txt").read_text().split()
    assert 3 <= len(saved) < len(WORDS) and saved == WORDS[:len(saved)]
    assert not app.return_value.finished


async def test_resizing_keeps_every_word():
    app = app_for(stt_script())
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot, lambda: app.state.ended is not None)
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.2)
        view = app.query_one(TranscriptView)
        assert view.text.split() == WORDS
        assert all(len(line) <= view._width() for line, _ in view.lines)


async def test_a_resize_never_puts_a_space_inside_a_long_word():
    words = ["a", "Thmatiliuméthmatiliuméthmatiliuméthmatiliumé", "word", "after"]
    app = app_for(stt_script(words))
    async with app.run_test(size=(40, 12)) as pilot:  # the long word is cut across two lines
        await settle(pilot, lambda: app.state.ended is not None)
        view = app.query_one(TranscriptView)
        assert view.text.split() == words
        for size in ((100, 30), (40, 12), (60, 20)):
            await pilot.resize_terminal(*size)
            await pilot.pause(0.2)
            assert view.text.split() == words


async def test_a_narrow_terminal_folds_the_figures_into_one_line():
    app = app_for(stt_script())
    async with app.run_test(size=(40, 12)) as pilot:
        await settle(pilot, lambda: app.state.ended is not None)
        assert not app.query_one("#side").display and app.query_one("#statusline").display
        assert app.query_one("#transcript-box").size.width >= 38
        assert "rtf" in str(app.query_one("#statusline").render())
        await pilot.resize_terminal(100, 30)
        await pilot.pause(0.2)
        assert app.query_one("#side").display and not app.query_one("#statusline").display


async def test_hibiki_items_show_their_end_of_stream_states():
    app = app_for(hibiki_script())
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, lambda: app.state.states.get(0) == ItemState.EOS_REACHED)
        eos = str(app.query_one("#eos").render())
        assert "item 0: eos reached" in eos and "item 1: input ended" in eos
        assert "early EOS x1" in eos
        assert app.query_one(TranscriptView).text.startswith("hello this is")


def test_console_state_figures():
    state = ConsoleState()
    for event in stt_script():
        state.handle(event, now=1.0)
    assert state.steps == 3 * len(WORDS)
    assert state.max_ms == 95.0 and 9.0 <= state.p50_ms <= 15.0
    assert state.real_time_factor == pytest.approx(state.busy_ms / (1000 * state.audio_time))
    state.shown(now=1.25)
    assert state.screen_latency_p95_ms == pytest.approx(250.0)


def test_split_line_cuts_at_spaces():
    assert split_line("hello world again", 11) == ("hello world", "again", " ")
    assert split_line("short", 11) == ("", "short", "")
    assert split_line("averyveryverylongword", 5) == ("avery", "veryverylongword", "")


async def test_real_engine_replay_fast_ends_with_what_run_prints(tiny_stt):
    expected = (await asyncio.to_thread(run, tiny_stt, DEMO_EN)).text[0]
    app = console_app(tiny_stt, FileSource(DEMO_EN, speed=None), StreamOptions(), "replay")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, lambda: app.state.ended is not None, timeout=120)
        view = app.query_one(TranscriptView)
        assert view.text.split() == expected.split()
        assert app.state.screen_latency_ms  # token-to-screen delays were measured


async def test_turn_ends_and_live_wer_on_screen(tiny_stt, tmp_path):
    reference = tmp_path / "reference.txt"
    reference.write_text("hello and welcome to captty this console turns live speech into text")
    options = StreamOptions(reference=str(reference), save_path=tmp_path / "t.txt",
                            outputs=(str(tmp_path / "export.txt"),))
    app = console_app(tiny_stt, FileSource(DEMO_EN, speed=None), options, "replay")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, lambda: app.state.ended is not None, timeout=120)
        assert app.state.turns >= 1  # tiny-stt ends turns at the demo's silences
        view = app.query_one(TranscriptView)
        assert "\n" in view.text
        # the screen shows the pieces as decoded, the saved text the words: the same letters
        assert "".join(view.text.split()) == "".join(app.transcript.split())
        assert "WER" in str(app.query_one("#status").render())
        await pilot.press("c")
        await pilot.press("q")
    saved, exported = (tmp_path / "t.txt").read_text(), (tmp_path / "export.txt").read_text()
    assert saved == exported and saved.count("\n") >= 2  # one line a turn, as -o FILE.txt
    assert app.clipboard == saved


async def test_q_mid_stream_lets_the_engine_finish_what_is_in_flight(tiny_stt, tmp_path):
    # a paced replay, quit early: the engine ends the input and flushes the model's delay first
    app = console_app(tiny_stt, FileSource(DEMO_EN, speed=1.0),
                      StreamOptions(save_path=tmp_path / "t.txt"), "replay")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, lambda: app.state.steps > 40, timeout=120)
        await pilot.press("q")
        await settle(pilot, lambda: not app.is_running, timeout=10)
    assert app.state.ended is not None and app.state.ended.stopped  # ended by the engine
    assert app.return_value.saved_to == tmp_path / "t.txt"
