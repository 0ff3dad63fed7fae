"""The engine's one refusal: its message is for people."""


class ArtworkError(ValueError):
    """Bad request to the engine (unknown mode, size beyond the machine, …); the message is for people."""
