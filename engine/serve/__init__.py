"""`captty serve`: Kyutai's streaming-ASR websocket protocol over one batched session.

`protocol.py` packs and checks the messages, `client_feeder.py` gives each client a batch slot
(a `Feeder`), `router.py` sends each slot's events to its client, `connection.py` runs one
client's websocket (backpressure, pings, idle limits), `server.py` is the web app (auth, a full
server's 503, TLS, `/metrics`, shutdown) and `metrics.py` the Prometheus figures.
"""
from .connection import Limits
from .server import PATH, AsrServer, ServeConfig, is_loopback

__all__ = ["PATH", "AsrServer", "Limits", "ServeConfig", "is_loopback"]
