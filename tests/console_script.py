"""Scripted event streams for console tests: what an STT or a Hibiki session would send, words
and turn ends included (decided by the engine's own annotator, as a session does)."""
from captty.engine import (EosTooEarly, ItemState, ItemStateChanged, SessionEnded, SessionStarted,
                           StepTimed, TextDecoded, TurnEndScored, WordBoundary)
from captty.engine.annotate import Annotator
from captty.engine.turns import TurnTracker
from captty.engine.words import WordTracker


def annotated(events):
    annotator = Annotator(WordTracker(lambda word: 1), TurnTracker())
    return [out for event in events for out in annotator.annotate(event)]

WORDS = ("the quick brown fox jumps over the lazy dog while the console keeps up with every "
         "word it hears and shows how long each step takes").split()


def stt_script(words=WORDS):
    events = [SessionStarted("kyutai/stt-1b-en_fr", "stt", "cuda:0", "bfloat16", 1, 1.0, 24000,
                             1920, False)]
    step = 0
    for i, word in enumerate(words):
        for pad in range(2):  # steps of padding between words, then a word boundary
            if pad == 1:
                events.append(WordBoundary(0, step, step * 0.08))
            events.append(StepTimed(step, 6.5, 2.4, 0.0, 9.0 + (step % 7), (step + 1) * 0.08))
            events.append(TurnEndScored(0, step, step * 0.08, 0.1 + 0.02 * (step % 5)))
            step += 1
        events.append(TextDecoded(0, step, step * 0.08, 100 + i, " " + word))
        events.append(StepTimed(step, 6.5, 2.4, 0.0, 95.0 if i == 7 else 10.0, (step + 1) * 0.08))
        step += 1
    events.append(ItemStateChanged(0, step, ItemState.INPUT_ENDED))
    events.append(ItemStateChanged(0, step, ItemState.EOS_REACHED))
    events.append(SessionEnded(step, step * 0.08, step * 0.01, stopped=False))
    return annotated(events)


def hibiki_script():
    events = [SessionStarted("kyutai/hibiki-2b-pytorch-bf16", "hibiki", "cuda:0", "bfloat16", 2,
                             3.0, 24000, 1920, True)]
    step = 0
    for i, word in enumerate("hello this is a translation of what was said in french".split()):
        for item in range(2):
            events.append(TextDecoded(item, step, step * 0.08, 200 + i, " " + word))
        events.append(StepTimed(step, 6.4, 14.4, 3.4, 24.3 + (step % 3), (step + 1) * 0.08))
        step += 1
    events.append(EosTooEarly(1, 3))
    for item in range(2):
        events.append(ItemStateChanged(item, step, ItemState.INPUT_ENDED))
    events.append(ItemStateChanged(0, step + 2, ItemState.EOS_REACHED))
    events.append(StepTimed(step, 6.4, 14.4, 3.4, 24.0, (step + 1) * 0.08))
    return annotated(events)  # item 1 still waiting for its EOS
