"""The client side of the streaming-ASR protocol: a stream transcribed by a remote server.

`session.py` (`RemoteSession`, the face of a `Session`), `connection.py` (one websocket, one
stream), `audio_queue.py` (the input's audio until the server has stepped it), `translate.py`
(the server's messages as the engine's events).
"""
from .session import RemoteSession
from .translate import ConnectionChanged, ServerStepped

__all__ = ["ConnectionChanged", "RemoteSession", "ServerStepped"]
