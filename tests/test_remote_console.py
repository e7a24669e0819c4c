"""The console as a client of `captty serve` (`--server`): the same transcript as with the model
in the process, and a latency panel showing what the protocol carries."""
from captty.engine import FileSource, WordFinished
from captty.tui.app import CapttyApp, ConsoleView
from captty.tui.options import StreamOptions
from captty.tui.remote_feed import RemoteFeed, remote_outputs, remote_session
from conftest import DEMO_EN
from engine_run import collect
from serve_helpers import running_server
from test_console import settle


async def test_the_console_on_a_server_shows_its_words_and_the_protocols_figures(tiny_stt,
                                                                               tmp_path):
    local = await collect(tiny_stt, DEMO_EN, batch_size=1)
    words = [e.text for e in local.events if isinstance(e, WordFinished)]
    async with running_server(tiny_stt, batch_size=1) as server:
        options = StreamOptions(server=f"ws://127.0.0.1:{server.port}",
                                outputs=(str(tmp_path / "remote.txt"),))
        outputs = remote_outputs(options, "replay")
        feed = RemoteFeed(remote_session(FileSource(DEMO_EN, speed=None), options, live=False),
                          outputs.sinks)
        app = CapttyApp(feed, ConsoleView("captty · remote", tmp_path / "saved.txt"),
                        wer=outputs.wer)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot, lambda: app.state.ended is not None, timeout=120)
            latency = str(app.query_one("#latency").render())
            status = str(app.query_one("#status").render())
            assert "send→step" in latency and "round trip" in latency and "buffered" in latency
            assert "connected" in status
            assert "[finished]" in str(app.query_one("#top").render())
            assert app.transcript.split() == words
            await pilot.press("q")
    assert (tmp_path / "saved.txt").read_text() == (tmp_path / "remote.txt").read_text()
