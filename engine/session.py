"""A streaming session: audio in, the step loop on the model thread, events out.

    async with Session(model, source) as session:
        async for event in session.events():
            ...

A `Feeder` turns the audio into the model's steps: one source in every batch slot
(`StreamFeeder`, the default), many inputs sharing the batch (`SlotFeeder`, `MultiSession`), or
the server's clients. The step loop runs on the process's model thread (`model_thread.py`) and
owns the streaming state while the session lasts; sessions take turns on it. Steps reach it
through a bounded hand-off (the feeder is not read further ahead than `max_queued_frames`), and
its events come back to the event loop once per step (or once every few, when it runs ahead).

`events()` is the one event stream every consumer reads: the engine's events, each followed by
the words, word times and turn ends it decided (`annotate.py`), computed once here.
"""
from __future__ import annotations

import asyncio
import logging
import queue
import time
import traceback
from collections.abc import AsyncIterator
from concurrent.futures import Future
from contextlib import aclosing, suppress

import torch

from .annotate import Annotator
from .checkpoint import LoadedModel
from .contracts import Feeder, Source
from .errors import CapttyError
from .events import EngineFailed, Event, SessionEnded, SessionStarted
from .model_thread import model_thread
from .step_loop import StepInput, StepLoop
from .stream_feeder import StreamFeeder
from .turns import DEFAULT_THRESHOLD

log = logging.getLogger(__name__)

_END, _ABORT = object(), object()
SEED = 4242  # moshi's run_inference seeds everything with it
HOLD_STEPS = 8  # steps whose events may be held back while frames are waiting
GPU_HINT = "try a smaller --batch-size, --half, or --device cpu"


class Session:
    """`source`: one input, copied to every batch slot; or `feeder`: any `Feeder`."""

    _loop: asyncio.AbstractEventLoop  # the event loop it was started on

    def __init__(self, model: LoadedModel, source: Source | None = None, *,
                 feeder: Feeder | None = None, batch_size: int = 1, cfg_coef: float = 1.0,
                 max_tail_seconds: float = 30.0, lm_gen_overrides: dict | None = None,
                 seed: int | None = SEED, max_queued_frames: int = 16,
                 turn_threshold: float = DEFAULT_THRESHOLD):
        if feeder is None:
            if source is None:
                raise ValueError("give a Session either a source or a feeder")
            feeder = StreamFeeder(source, model.layout, batch_size)
        self.model = model
        self.source = source
        self.feeder: Feeder = feeder
        self.batch_size = batch_size
        self.cfg_coef = cfg_coef
        self.max_tail_seconds = max_tail_seconds
        self.lm_gen_overrides = lm_gen_overrides
        self.seed = seed
        self.annotator = Annotator.of(model, turn_threshold)
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._credits = asyncio.Semaphore(max_queued_frames)
        self._held: list[Event] = []  # events not handed over yet (`_post_step`)
        self._held_steps = 0
        self._hold_steps = max(1, min(HOLD_STEPS, max_queued_frames // 2))
        self._events: asyncio.Queue[list[Event]] = asyncio.Queue()
        self._ready = asyncio.Event()  # the model is warm: the source may start
        self._job: Future | None = None
        self._taken = 0  # steps the model thread took since its last hand-off
        self.frames_received = 0  # steps from the feeder
        self.frames_taken = 0  # by the model thread
        self.overlapped_steps = 0  # steps whose outputs were read after the next was launched
        self._feeding: asyncio.Task | None = None
        self._told = False  # the model thread was told the steps are over
        self._stopping = False
        self._graceful = True
        self._aborted = False

    # --- the asyncio side -------------------------------------------------------------------

    async def __aenter__(self) -> "Session":
        self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        if self._job and not self._job.done():
            self.abort()
        await self.wait_closed()

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._job = model_thread().submit(self._run)
        self._feeding = asyncio.create_task(self._feed(), name="captty-feeder")
        self._feeding.add_done_callback(self._fed)

    def _fed(self, task: asyncio.Task) -> None:
        """A feeder cancelled before it even ran tells the model thread nothing itself."""
        if task.cancelled() and not self._told:
            self._tell(_END if self._graceful else _ABORT)

    def _tell(self, end) -> None:
        """The end of the steps (`_END`, or `_ABORT`), once."""
        if not self._told:
            self._told = True
            self._inbox.put(end)

    async def _feed(self) -> None:
        # a paced file or a microphone starts its clock on its first frame: not while the model
        # thread is still warming up, or a replay would burst and live would start behind
        pending: StepInput | None = None
        try:
            await self._ready.wait()
            async with aclosing(aiter(self.feeder)) as steps:
                async for pending in steps:
                    await self._credits.acquire()
                    self._put(pending)
                    pending = None
        except asyncio.CancelledError:  # stop() or abort()
            if not self._graceful:
                self._tell(_ABORT)
                raise
            # what is in flight still goes through, each stream closed with its silence (past
            # the credits: a bounded few seconds of audio, and nothing is read after it)
            for step in ([pending] if pending is not None else []) + self.feeder.flush():
                self._put(step)
            self._tell(_END)
            raise
        except CapttyError as e:
            self._tell(_ABORT)
            self._events.put_nowait([EngineFailed(str(e))])
            return
        except Exception as e:  # a broken source: report it, keep what was transcribed
            self._tell(_ABORT)
            self._events.put_nowait([EngineFailed(f"the audio source failed: {e}",
                                                  traceback.format_exc())])
            return
        self._tell(_END)

    def _put(self, step: StepInput) -> None:
        self.frames_received += 1
        self._inbox.put(step)

    @property
    def backlog_seconds(self) -> float:
        """Audio received from the source that the model has not taken yet."""
        waiting = self.frames_received - self.frames_taken
        return max(waiting, 0) * self.feeder.layout.frame_seconds

    async def events(self) -> AsyncIterator[Event]:
        """Every event, in order, until `SessionEnded` or `EngineFailed` (the last one yielded):
        the engine's, each followed by the words and turns it decided (`annotate.py`)."""
        annotate = self.annotator.annotate
        while True:
            batch = await self._events.get()
            for event in batch:
                for out in annotate(event):
                    yield out
                if isinstance(event, (SessionEnded, EngineFailed)):
                    return

    def stop(self) -> None:
        """End the input now; what is in flight is still transcribed (STT flushes its delay)."""
        self._stopping = True
        if self._feeding and not self._feeding.done():
            self._feeding.cancel()

    def abort(self) -> None:
        """Stop after the current step, without flushing."""
        self._stopping = True
        self._graceful = False
        if self._feeding and not self._feeding.done():
            self._feeding.cancel()
        else:
            self._inbox.put(_ABORT)

    async def wait_closed(self) -> None:
        if self._job:
            await asyncio.wrap_future(self._job)
        if self._feeding:
            if not self._feeding.done():  # the model stopped (a failure): nobody takes more
                self._graceful = False
                self._feeding.cancel()
            try:
                await self._feeding
            except asyncio.CancelledError:
                pass

    def _post(self, events: list[Event]) -> None:
        """From the model thread: hand these events, and any held back, to the event loop now,
        with the steps taken since the last hand-off (their credits go back to the feeder)."""
        held, self._held, self._held_steps = self._held, [], 0
        taken, self._taken = self._taken, 0
        try:
            self._loop.call_soon_threadsafe(self._deliver, held + events if held else events, taken)
        except RuntimeError:  # the event loop is closed; nobody is listening any more
            pass

    def _post_step(self, events: list[Event]) -> None:
        """A step's events: held back while the next step is already waiting, for at most a
        few steps, so a replay running ahead of real time wakes the event loop once every few
        steps rather than at each (each wake-up took the GIL from the step: 5% of a tiny
        model's step on the CPU); handed over at once when the model is about to wait."""
        self._held.extend(events)
        self._held_steps += 1
        if self._held_steps >= self._hold_steps or self._inbox.empty():
            self._post([])

    def _deliver(self, events: list[Event], taken: int) -> None:
        for _ in range(taken):
            self._credits.release()
        self._ready.set()  # the first hand-off is SessionStarted (or a failure), after warm-up
        self._events.put_nowait(events)

    # --- the model thread ---------------------------------------------------------------------

    def _next(self):
        if self._taken and self._inbox.empty():
            self._post([])  # about to wait for frames: return the credits now
        item = self._inbox.get()
        if item is not _END and item is not _ABORT:
            self._taken += 1
            self.frames_taken += 1
        return item

    def _steps_in(self):
        """The feeder's steps until it ends; `_aborted` then tells whether it was aborted."""
        while True:
            item = self._next()
            if item is _END or item is _ABORT:
                self._aborted = item is _ABORT
                return
            yield item

    def _run(self) -> None:
        try:
            with torch.no_grad():
                self._steps()
        except CapttyError as e:
            self._post([EngineFailed(str(e))])
        except torch.cuda.OutOfMemoryError:
            self._post([EngineFailed(f"the GPU ran out of memory after {self.frames_taken} steps: "
                                     f"{GPU_HINT}", traceback.format_exc())])
        except Exception as e:
            first = (str(e).strip().splitlines() or [""])[0]
            if "CUDA" in first or "cuda" in type(e).__module__:
                message = f"a CUDA error stopped the model ({first}): {GPU_HINT}"
            else:
                message = f"the model step failed: {type(e).__name__}: {first}"
            self._post([EngineFailed(message, traceback.format_exc())])

    def _steps(self) -> None:
        loop = StepLoop(self.model, self.batch_size, self.cfg_coef, self.lm_gen_overrides)
        with loop.streaming():
            loop.warm_up()  # on the state that runs next, so what it captures serves the stream
            if self.seed is not None:
                torch.manual_seed(self.seed)
                if torch.cuda.is_available():
                    torch.cuda.manual_seed_all(self.seed)
            started = time.perf_counter()
            self._post([self._started()])
            pending = None  # a launched step whose outputs are read after the next launch
            try:
                for step in self._steps_in():
                    launched = loop.launch(step)
                    done, pending = pending, launched
                    if done is not None:
                        self._post_step(loop.collect(done))
                    if loop.pipelined and not self._inbox.empty():
                        self.overlapped_steps += 1  # the next frame is there: launch it first
                    else:
                        pending = None
                        self._post_step(loop.collect(launched))
            except BaseException:
                if pending is not None:  # a failure: what was launched before it is kept
                    with suppress(Exception):
                        self._post_step(loop.collect(pending))
                raise
            if pending is not None:
                self._post_step(loop.collect(pending))
            if not self._aborted and loop.streaming_slots:  # streams the feeder did not close
                self._post(loop.end_input())
                if self.model.model_type == "hibiki":
                    self._tail(loop)
                else:
                    self._post(loop.finish())
        wall = time.perf_counter() - started
        self._post([SessionEnded(loop.steps_out, loop.audio_frames * self.feeder.layout.frame_seconds,
                                 wall, stopped=self._aborted or self._stopping)])

    def _started(self) -> SessionStarted:
        model, layout = self.model, self.feeder.layout
        return SessionStarted(model.name, model.model_type, str(model.device),
                              str(model.dtype).removeprefix("torch."), self.batch_size,
                              self.cfg_coef, layout.sample_rate, layout.frame_size, model.speaks,
                              layout.time_offset)

    def _tail(self, loop: StepLoop) -> None:
        """Hibiki: the end-of-input step, then silence until every item samples EOS."""
        max_steps = int(self.max_tail_seconds * self.model.layout.frame_rate)
        for i in range(max_steps):
            self._post(loop.feed_tail(end_of_input=i == 0))
            if loop.finished:
                return
            if not self._inbox.empty() and self._inbox.get() is _ABORT:
                return
        log.warning("no EOS after %.0f s of tail: stopping", self.max_tail_seconds)
        self._post(loop.give_up())
