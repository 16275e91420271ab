"""The one error of the embedding side, shared by the export and the loader."""

from __future__ import annotations


class EmbedModelError(RuntimeError):
    """The embedding model cannot be prepared or loaded; the message is meant for users."""
