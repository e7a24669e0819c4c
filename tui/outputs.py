"""What a run writes besides the screen or stdout: transcript files, the live WER, and a model's
speech (a WAV written as it comes, or played)."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from captty.engine import (CapttyError, GuardedSink, LiveWer, LoadedModel, Sink, SpeechPlayer, WavWriter,
                           transcript_sink)
from captty.tui.options import StreamOptions

log = logging.getLogger("captty")


@dataclass
class Outputs:
    sinks: list[Sink] = field(default_factory=list)
    wer: LiveWer | None = None  # with --reference; also among `sinks`

    def check_written(self) -> None:
        """At the end: a run whose files could not all be written ends in an error (each was
        said when it failed, and again when closed)."""
        guards = [s for sink in self.sinks for s in getattr(sink, "sinks", [sink])]
        failed = [g.name for g in guards if isinstance(g, GuardedSink) and g.failure]
        if failed:
            raise CapttyError(f"not written in full: {', '.join(failed)}")


def transcript_outputs(options: StreamOptions, settings: dict) -> Outputs:
    """The WER (--reference) and the transcript files (--output, which record `settings`)."""
    out = Outputs()
    reference = options.reference_text()
    if reference is not None:
        out.wer = LiveWer(reference)
        out.sinks.append(out.wer)
    if options.outputs:
        out.sinks.append(transcript_sink(options.outputs, options.fmt,
                                         turn_threshold=options.turn_threshold,
                                         settings=settings))
    return out


def outputs_for(model: LoadedModel, options: StreamOptions, what: str, batch_size: int,
                speech_file: str | None = None) -> Outputs:
    """The sinks of a run: transcript files (--output), the WER (--reference), and for models
    that speak, the speech (`speech_file`/--speech-out, --play)."""
    out = transcript_outputs(options, {"input": what, "batch_size": batch_size,
                                       "cfg_coef": options.cfg_coef})
    speech_file = speech_file or options.speech_out
    if not (speech_file or options.play):
        return out
    if not model.speaks:
        log.warning("'%s' produces no speech: %s is not written", model.name,
                    speech_file or "--play plays nothing")
        return out
    if speech_file:
        out.sinks.append(GuardedSink(WavWriter(speech_file, batch_size, model.layout.sample_rate),
                                     speech_file))
    if options.play:
        out.sinks.append(SpeechPlayer(model.layout.sample_rate))
    return out
