"""A streaming session: a source of frames in, the step loop on its own thread, events out.

    async with Session(model, source) as session:
        async for event in session.events():
            ...

The step loop runs on the process's model thread (`model_thread.py`) and owns the streaming
state while the session lasts; sessions take turns on it. Frames reach it
through a bounded hand-off (the source is not read further ahead than `max_queued_frames`), and
its events come back to the event loop once per step.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import time
import traceback
from concurrent.futures import Future
from typing import AsyncIterator

import numpy as np
import torch

from .checkpoint import LoadedModel
from .errors import CapttyError
from .events import EngineFailed, Event, SessionEnded, SessionStarted
from .framing import Framer
from .model_thread import model_thread
from .step_loop import StepLoop

log = logging.getLogger(__name__)

_END, _ABORT = object(), object()
SEED = 4242  # moshi's run_inference seeds everything with it
HOLD_STEPS = 8  # steps whose events may be held back while frames are waiting


class Session:
    def __init__(self, model: LoadedModel, source: AsyncIterator[np.ndarray], *,
                 batch_size: int = 1, cfg_coef: float = 1.0, max_tail_seconds: float = 30.0,
                 lm_gen_overrides: dict | None = None, seed: int | None = SEED,
                 max_queued_frames: int = 16):
        self.model = model
        self.source = source
        self.batch_size = batch_size
        self.cfg_coef = cfg_coef
        self.max_tail_seconds = max_tail_seconds
        self.lm_gen_overrides = lm_gen_overrides
        self.seed = seed
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._credits = asyncio.Semaphore(max_queued_frames)
        self._held: list[Event] = []  # events not handed over yet (`_post_step`)
        self._held_steps = 0
        self._hold_steps = max(1, min(HOLD_STEPS, max_queued_frames // 2))
        self._events: asyncio.Queue[list[Event]] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._job: Future | None = None
        self._taken = 0  # frames the model thread took since its last hand-off
        self.frames_received = 0  # from the source
        self.frames_taken = 0  # by the model thread
        self._feeder: asyncio.Task | None = None
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
        self._ready = asyncio.Event()  # the model is warm: the source may start
        self._job = model_thread().submit(self._run)
        self._feeder = asyncio.create_task(self._feed(), name="captty-feeder")
        self._feeder.add_done_callback(self._fed)

    def _fed(self, task: asyncio.Task) -> None:
        if task.cancelled():  # stop() or abort(): tell the model thread which
            self._inbox.put(_END if self._graceful else _ABORT)

    async def _feed(self) -> None:
        # a paced file or a microphone starts its clock on its first frame: not while the model
        # thread is still warming up, or a replay would burst and live would start behind
        await self._ready.wait()
        try:
            async with contextlib.aclosing(aiter(self.source)) as frames:
                async for frame in frames:
                    if self._stopping:
                        break
                    await self._credits.acquire()
                    self.frames_received += 1
                    self._inbox.put(frame)
        except CapttyError as e:
            self._inbox.put(_ABORT)
            self._events.put_nowait([EngineFailed(str(e))])
            return
        except Exception as e:  # a broken source: report it, keep what was transcribed
            self._inbox.put(_ABORT)
            self._events.put_nowait([EngineFailed(f"the audio source failed: {e}",
                                                  traceback.format_exc())])
            return
        self._inbox.put(_END)

    @property
    def backlog_seconds(self) -> float:
        """Audio received from the source that the model has not taken yet."""
        waiting = self.frames_received - self.frames_taken
        return max(waiting, 0) * self.model.frame_size / self.model.sample_rate

    async def events(self) -> AsyncIterator[Event]:
        """Every event, in order, until `SessionEnded` or `EngineFailed` (the last one yielded)."""
        while True:
            batch = await self._events.get()
            for event in batch:
                yield event
                if isinstance(event, (SessionEnded, EngineFailed)):
                    return

    def stop(self) -> None:
        """End the input now; what is in flight is still transcribed (STT flushes its delay)."""
        self._stopping = True
        if self._feeder and not self._feeder.done():
            self._feeder.cancel()

    def abort(self) -> None:
        """Stop after the current step, without flushing."""
        self._stopping = True
        self._graceful = False
        if self._feeder and not self._feeder.done():
            self._feeder.cancel()
        else:
            self._inbox.put(_ABORT)

    async def wait_closed(self) -> None:
        if self._feeder:
            try:
                await self._feeder
            except asyncio.CancelledError:
                pass
        if self._job:
            await asyncio.wrap_future(self._job)

    def _post(self, events: list[Event]) -> None:
        """From the model thread: hand these events, and any held back, to the event loop now,
        with the frames taken since the last hand-off (their credits go back to the feeder)."""
        held, self._held, self._held_steps = self._held, [], 0
        taken, self._taken = self._taken, 0
        try:
            self._loop.call_soon_threadsafe(self._deliver, held + events if held else events, taken)
        except RuntimeError:  # the event loop is closed; nobody is listening any more
            pass

    def _post_step(self, events: list[Event]) -> None:
        """A step's events: held back while the next frame is already waiting, for at most a
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

    def _next_frame(self):
        if self._taken and self._inbox.empty():
            self._post([])  # about to wait for frames: return the credits now
        item = self._inbox.get()
        if item is not _END and item is not _ABORT:
            self._taken += 1
            self.frames_taken += 1
        return item

    def _inputs(self):
        """The source's items until it ends; `_aborted` then tells whether it was aborted."""
        while True:
            item = self._next_frame()
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
            self._post([EngineFailed("the GPU ran out of memory (try a smaller --batch-size)",
                                     traceback.format_exc())])
        except Exception as e:
            self._post([EngineFailed(f"the model step failed: {type(e).__name__}: {e}",
                                     traceback.format_exc())])

    def _steps(self) -> None:
        model = self.model
        self._warm_up()
        if self.seed is not None:
            torch.manual_seed(self.seed)
            if torch.cuda.is_available():
                torch.cuda.manual_seed_all(self.seed)
        loop = StepLoop(model, self.batch_size, self.cfg_coef, self.lm_gen_overrides)
        stt = model.model_type == "stt"
        stt_config = model.info.stt_config if stt else {}
        sr = model.sample_rate
        pad_left = int(stt_config.get("audio_silence_prefix_seconds", 0.0) * sr)
        pad_right = int((stt_config.get("audio_delay_seconds", 0.0) + 1.0) * sr) if stt else 0
        framer = Framer(model.frame_size, pad_left)
        started = time.perf_counter()
        self._post([self._started(pad_left / sr + stt_config.get("audio_delay_seconds", 0.0))])
        with loop.streaming():
            for item in self._inputs():
                for frame in framer.push(item):
                    self._post_step(loop.feed(frame))
            aborted = self._aborted
            if not aborted:
                if stt:
                    self._post(loop.end_input())
                for frame in framer.finish(pad_right):
                    self._post(loop.feed(frame))
                if stt:
                    self._post(loop.finish())
                elif self.model.model_type == "hibiki":
                    self._tail(loop)
                else:
                    self._post(loop.end_input() + loop.finish())
        wall = time.perf_counter() - started
        self._post([SessionEnded(loop.steps_out, loop.frames_in * model.frame_size / sr, wall,
                                 stopped=aborted or self._stopping)])

    def _started(self, time_offset: float) -> SessionStarted:
        model = self.model
        return SessionStarted(model.name, model.model_type, str(model.device),
                              str(model.dtype).removeprefix("torch."), self.batch_size,
                              self.cfg_coef, model.sample_rate, model.frame_size, model.speaks,
                              time_offset)

    def _warm_up(self) -> None:
        """A few steps of silence on a throwaway stream, so that torch.compile and the kernels'
        first-call costs are paid before the first real frame rather than on it."""
        warm = StepLoop(self.model, self.batch_size, self.cfg_coef, self.lm_gen_overrides)
        silence = np.zeros(self.model.frame_size, dtype=np.float32)
        with warm.streaming():
            for _ in range(3):
                warm.feed(silence)

    def _tail(self, loop: StepLoop) -> None:
        """Hibiki: the end-of-input step, then silence until every item samples EOS."""
        self._post(loop.end_input())
        max_steps = int(self.max_tail_seconds * self.model.mimi.frame_rate)
        for i in range(max_steps):
            self._post(loop.feed_tail(end_of_input=i == 0))
            if loop.finished:
                return
            if not self._inbox.empty() and self._inbox.get() is _ABORT:
                return
        log.warning("no EOS after %.0f s of tail: stopping", self.max_tail_seconds)
        self._post(loop.give_up())
