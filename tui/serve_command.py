"""`captty serve`: an STT model over Kyutai's streaming-ASR websocket protocol (the server is
`captty.engine.AsrServer`; this is its command line)."""
from __future__ import annotations

import asyncio
import logging

import click

from captty.tui.options import model_options, spec_from

GPU_SLOTS = 64  # Kyutai's configs for stt-1b-en_fr
CPU_SLOTS = 8

log = logging.getLogger("captty")


@click.command()
@model_options
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Any other than a loopback address needs --api-key.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=None,
              help=f"Concurrent clients (batch slots). Default: {GPU_SLOTS} on a GPU (as Kyutai "
                   f"configures stt-1b-en_fr), {CPU_SLOTS} on the CPU.")
@click.option("--api-key", envvar="CAPTTY_API_KEY", metavar="KEY",
              help="Clients must send this key (header kyutai-api-key, or ?auth_id=KEY); also "
                   "from CAPTTY_API_KEY.")
@click.option("--ssl-certfile", type=click.Path(exists=True, dir_okay=False),
              help="Serve wss:// with this certificate (PEM), with --ssl-keyfile.")
@click.option("--ssl-keyfile", type=click.Path(exists=True, dir_okay=False),
              help="The certificate's private key (PEM).")
def serve(host: str, port: int, batch_size: int | None, api_key: str | None,
          ssl_certfile: str | None, ssl_keyfile: str | None, **kwargs) -> None:
    """Serve an STT model at ws://HOST:PORT/api/asr-streaming (moshi-server's protocol).

    Kyutai's client scripts and `captty live --server ws://HOST:PORT` connect to it; SIGTERM or
    Ctrl-C flushes every stream (each client gets its last words) and exits. Prometheus
    metrics at /metrics."""
    from captty.engine import AsrServer, CapttyError, ServeConfig, load_model

    config = ServeConfig(host, port, batch_size or 1, api_key or None, ssl_certfile, ssl_keyfile)
    config.check()  # before loading a model: an unsafe address fails at once
    config.ssl_context()
    model = load_model(spec_from(kwargs))
    if model.model_type != "stt":
        raise CapttyError(f"captty serve is for STT models; '{model.name}' is a "
                          f"{model.model_type} model (run it with captty run or replay)")
    slots = batch_size or (GPU_SLOTS if model.device.type == "cuda" else CPU_SLOTS)
    config = ServeConfig(host, port, slots, api_key or None, ssl_certfile, ssl_keyfile)
    asyncio.run(AsrServer(model, config).run())
