"""The ``aggregator`` command: ``main`` (run, render, check, detect, classify...), ``feeds``
(the feeds and status commands), ``serve`` (the scheduled daemon) and ``config_edit`` (editing
config.yaml while keeping its comments)."""

from .main import main

__all__ = ["main"]
