"""The headless run: a session's events to sinks (the transcript on stdout, files), stats on stderr."""
from __future__ import annotations

import asyncio
import logging
import signal
import sys
from dataclasses import dataclass, field

from captty.engine import (CapttyError, EngineFailed, EosTooEarly, InputRepaired, ItemState,
                           ItemStateChanged,
                           LoadedModel, RemoteSession, Session, SessionEnded, Sink, Source,
                           StepTimed, TextPrinter)
from captty.tui.options import StreamOptions
from captty.tui.step_histogram import StepHistogram

log = logging.getLogger("captty")


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)  # Ctrl-C, kill, a closed terminal


class Interrupted(Exception):
    """A run stopped by a signal, once its outputs are closed; the exit code says which."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@dataclass
class RunResult:
    ended: SessionEnded | None = None
    failure: EngineFailed | None = None
    interrupted: int = 0  # the signal that stopped the run, if one did
    step_ms: StepHistogram = field(default_factory=StepHistogram)
    states: dict[int, ItemState] = field(default_factory=dict)


def session_for(model: LoadedModel, source: Source, options: StreamOptions) -> Session:
    """One input through the model, in every batch slot, with the command's options."""
    return Session(model, source, batch_size=options.slots(), cfg_coef=options.cfg_coef,
                   max_tail_seconds=options.max_tail, turn_threshold=options.turn_threshold)


async def run_session(session: Session | RemoteSession, sinks: list[Sink], *,
                      graceful: bool = False) -> RunResult:
    """Every event of `session` to `sinks`, with the figures and states kept in the result;
    Ctrl-C, SIGTERM or SIGHUP stop it after the current step (`graceful`: end the input
    instead, so what is in flight is still transcribed); the outputs are closed either way."""
    result = RunResult()
    loop = asyncio.get_running_loop()

    def interrupt(signum: int) -> None:
        result.interrupted = result.interrupted or signum
        session.stop() if graceful else session.abort()

    for signum in STOP_SIGNALS:
        try:
            loop.add_signal_handler(signum, interrupt, signum)
        except (NotImplementedError, RuntimeError):  # not the main thread, or no signals here
            pass
    try:
        async with session:
            async for event in session.events():
                for sink in sinks:
                    sink.handle(event)
                if isinstance(event, StepTimed):
                    result.step_ms.append(event.total_ms)
                elif isinstance(event, ItemStateChanged):
                    result.states[event.item] = event.state
                    if event.state == ItemState.EOS_MISSING:
                        log.warning("item %d never sampled EOS: its output may be cut short", event.item)
                elif isinstance(event, InputRepaired):
                    if event.final:
                        log.warning("%d samples that were not finite were replaced in all",
                                    event.samples)
                    else:
                        log.warning("the input holds samples that are not finite (NaN, inf): "
                                    "they are replaced with silence")
                elif isinstance(event, EosTooEarly):
                    log.warning("EOS sampled too early (item %d, step %d)", event.item, event.step)
                elif isinstance(event, SessionEnded):
                    result.ended = event
                elif isinstance(event, EngineFailed):
                    result.failure = event
    finally:
        for signum in STOP_SIGNALS:
            try:
                loop.remove_signal_handler(signum)
            except (NotImplementedError, RuntimeError):
                pass
        for sink in sinks:
            sink.close()
    return result


def report(result: RunResult, stream=None) -> None:
    """The end-of-run figures on stderr: steps, ms/step and the real-time factor."""
    stream = stream or sys.stderr
    ended = result.ended
    if ended is None or not ended.steps:
        return
    p50 = result.step_ms.median
    rtf = ended.real_time_factor
    speed = f", {1 / rtf:.1f}x real time" if rtf else ""
    print(f"captty: processed {ended.steps} steps in {ended.wall_seconds:.1f}s, "
          f"{ended.ms_per_step:.2f} ms/step (p50 {p50:.2f}), {ended.audio_seconds:.1f}s of audio fed, "
          f"real-time factor {rtf:.3f}{speed}", file=stream)


def print_run(session: Session | RemoteSession, sinks: list[Sink], *,
              graceful: bool = False) -> RunResult:
    """The transcript of `session` on stdout (item 0, as it is decoded), its events also into
    `sinks`; a failure of the engine becomes one clear error, once the sinks are closed."""
    result = asyncio.run(run_session(session, [TextPrinter(sys.stdout), *sinks],
                                     graceful=graceful))
    if result.failure is not None:
        raise CapttyError(result.failure.message)
    return result


def raise_if_interrupted(result: RunResult, graceful: bool = False) -> None:
    """`Interrupted` if a signal stopped the run; Ctrl-C is the normal end of a `graceful` run
    (a live microphone), not an interruption."""
    if result.interrupted and not (graceful and result.interrupted == signal.SIGINT):
        raise Interrupted(result.interrupted)

