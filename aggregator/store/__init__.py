"""The store: every entry, feed state and fact the pipeline keeps between runs.

``sqlite`` is the embedded default (the only module that touches SQLite).
"""

from .sqlite import SCHEMA_VERSION, Store

__all__ = ["SCHEMA_VERSION", "Store"]
