"""The one thread that runs model code, for the life of the process.

Loading, warm-up and every session's step loop run here, never on the event loop's thread:
streaming state and CUDA graphs belong to the thread that made them, and PyTorch's CPU thread
pool (OpenMP) is per calling thread, so torch work spread over several threads makes several
pools compete for the cores (on a 2-core machine the step loop ran 1.8x slower once a second
thread had run the model). Jobs run one at a time, in order.
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")


class ModelThread:
    def __init__(self, name: str = "captty-model"):
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        # a daemon: a step loop still waiting for frames must not keep the process alive
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while True:
            fn, future = self._jobs.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except BaseException as e:  # handed to whoever waits on the future
                future.set_exception(e)

    def submit(self, fn: Callable[..., T], *args, **kwargs) -> "Future[T]":
        future: Future = Future()
        self._jobs.put((lambda: fn(*args, **kwargs), future))
        return future

    def call(self, fn: Callable[..., T], *args, **kwargs) -> T:
        """Run `fn` here and wait for its result (inline when already on this thread)."""
        if threading.current_thread() is self._thread:
            return fn(*args, **kwargs)
        return self.submit(fn, *args, **kwargs).result()


_lock = threading.Lock()
_instance: ModelThread | None = None


def model_thread() -> ModelThread:
    global _instance
    with _lock:
        if _instance is None:
            _instance = ModelThread()
        return _instance
