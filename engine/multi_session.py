"""Many inputs through one batched model: a session whose batch slots take inputs in turn.

    inputs = [(path, lambda path=path: FileSource(path, speed=None)) for path in paths]
    async with MultiSession(model, inputs, batch_size=8) as session:
        async for event in session.events():
            ...  # StreamStarted tells which input a slot (`event.item`) holds from then on

Up to `batch_size` inputs run at once; a slot freed when its input ends takes the next one
(`SlotFeeder`). With greedy decoding, each input's tokens equal those of a lone run at the same
batch size in the same slot (another slot may round floats differently). STT models only
(text-only, no delays).
"""
from __future__ import annotations

from .checkpoint import LoadedModel
from .errors import CapttyError
from .session import SEED, Session
from .slot_feeder import Opener, SlotFeeder
from .turns import DEFAULT_THRESHOLD


class MultiSession(Session):
    def __init__(self, model: LoadedModel, inputs: list[tuple[str, Opener]], *,
                 batch_size: int = 1, lm_gen_overrides: dict | None = None,
                 seed: int | None = SEED, max_queued_frames: int = 16,
                 turn_threshold: float = DEFAULT_THRESHOLD):
        if model.model_type != "stt":
            raise CapttyError(f"several inputs in one batch need an STT model; '{model.name}' "
                              f"is a {model.model_type} model")
        super().__init__(model, feeder=SlotFeeder(inputs, model.layout, batch_size),
                         batch_size=batch_size, lm_gen_overrides=lm_gen_overrides, seed=seed,
                         max_queued_frames=max_queued_frames, turn_threshold=turn_threshold)
