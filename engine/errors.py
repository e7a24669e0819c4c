"""Errors whose message is meant for the person at the terminal."""


class CapttyError(Exception):
    """A failure the user can act on; its message is one clear line, shown without a traceback."""
