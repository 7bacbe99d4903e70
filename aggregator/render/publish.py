"""Atomic publishing of the site: build beside the output folder, then swap it in.

The new site is assembled in ``.<output>.tmp-<pid>-<random>`` next to the output folder. A page
whose input fingerprint (or, once rendered, whose bytes) equals the published one is hard-linked
from the old site, so it keeps its inode and mtime and is never rewritten. ``commit`` swaps the
two folders with one ``renameat2(RENAME_EXCHANGE)`` on Linux (two renames elsewhere) and deletes
the old one; a crash or kill before that leaves the published site untouched, and the next build
removes the leftovers.

The output folder is the user's; the pages are ours (pelican's ``OUTPUT_RETENTION``, for
everything). Whatever the renderer did not write survives every build as it was: files (hard
links, so the same inodes), folders even when empty (``.git/`` of a gh-pages checkout, its empty
``refs/tags``), symbolic links as links, a ``CNAME``, a ``media/`` folder. What the renderer wrote
last time and not now is dropped. Where a file of the user's stands where the site needs a
folder (or the reverse), the build fails and says so, and nothing is touched.

One build at a time per output folder: a ``Publisher`` holds an OS lock on
``.<output>.lock`` beside it from its start to its end, so a second build waits instead of
deleting the first one's temporary folder; the leftovers it removes are those of builds that
are gone.

A manifest (``.aggregator-manifest.json``) in the output folder maps each written path to the
fingerprint of its inputs, which is what lets the next build skip rendering unchanged pages.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import logging
import os
import shutil
import stat
import uuid
from pathlib import Path

from ..errors import RenderError

try:
    import fcntl
except ImportError:  # pragma: no cover - no flock (Windows): builds are not serialised
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("aggregator")

MANIFEST = ".aggregator-manifest.json"
MANIFEST_VERSION = 1


def _safe_rel(rel: str) -> str:
    """``rel`` when it is a plain relative path inside the output folder (pelican's rule)."""
    if (not rel or rel.startswith("/") or "\\" in rel or "\x00" in rel
            or any(part in ("", ".", "..") for part in rel.split("/"))):
        raise RenderError(f"refusing to write outside the output folder: {rel!r}")
    return rel


class Publisher:
    """Collects the files of one build in a temporary folder and swaps it in on ``commit``."""

    def __init__(self, output: Path):
        self.output = Path(output)
        if self.output.exists() and not self.output.is_dir():
            raise RenderError(f"{self.output}: the output path exists and is not a folder")
        parent = self.output.parent
        parent.mkdir(parents=True, exist_ok=True)
        self._lock_fd = _lock(parent / f".{self.output.name}.lock")
        try:
            self._recover(parent)
            self.tmp = parent / f".{self.output.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
            self.tmp.mkdir()
        except BaseException:
            self._unlock()
            raise
        self.old: dict[str, str] = self._read_manifest()
        self.new: dict[str, str] = {}
        self.written = 0
        self.unchanged = 0
        self._dirs: set[str] = set()
        self._out = str(self.output)

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _recover(self, parent: Path) -> None:
        """Clean up after a build that died (we hold the output's lock, so no build that is
        still going left these): restore a site caught between renames, drop temps."""
        name = self.output.name
        olds = sorted(parent.glob(f".{name}.old-*"))
        if not self.output.exists() and olds:
            os.rename(olds[-1], self.output)
            olds = olds[:-1]
        for leftover in [*olds, *parent.glob(f".{name}.tmp-*")]:
            shutil.rmtree(leftover, ignore_errors=True)

    def _read_manifest(self) -> dict[str, str]:
        try:
            data = json.loads((self.output / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION:
            return {}
        pages = data.get("files")
        return {str(k): str(v) for k, v in pages.items()} if isinstance(pages, dict) else {}

    def _claim(self, rel: str) -> tuple[str, str]:
        rel = _safe_rel(rel)
        if rel in self.new or rel == MANIFEST:
            raise RenderError(f"the site would write {rel} twice")
        folder = os.path.dirname(rel)
        if folder not in self._dirs:
            os.makedirs(os.path.join(self.tmp, folder), exist_ok=True)
            self._dirs.add(folder)
        return rel, os.path.join(self.tmp, rel)

    def _link_old(self, rel: str, dest: str) -> bool:
        """Put the published file at ``dest``; False when it is gone or is not a file."""
        src = os.path.join(self._out, rel)
        try:
            os.link(src, dest)  # one call, no stat first
        except FileNotFoundError:
            return False
        except OSError:  # no hard links on this file system, or not a file
            if not os.path.isfile(src):
                return False
            shutil.copy2(src, dest)  # keeps the mtime
        return True

    def reuse(self, rel: str, fingerprint: str) -> bool:
        """Keep the published file when its inputs are unchanged; True when it was kept (False
        too when the published file is gone or is not a file: then it is rendered again)."""
        if self.old.get(rel) != fingerprint:
            return False
        rel, dest = self._claim(rel)
        if not self._link_old(rel, dest):
            return False
        self.new[rel] = fingerprint
        self.unchanged += 1
        return True

    def write(self, rel: str, data: bytes, fingerprint: str) -> bool:
        """Publish ``data`` at ``rel``; the old file is kept when its bytes are the same.

        Returns True when new bytes were written.
        """
        rel, dest = self._claim(rel)
        self.new[rel] = fingerprint
        old = Path(self._out, rel)
        try:
            same = old.stat().st_size == len(data) and old.read_bytes() == data
        except OSError:
            same = False
        if same and self._link_old(rel, dest):
            self.unchanged += 1
            return False
        with open(dest, "wb") as f:
            f.write(data)
        self.written += 1
        return True

    def commit(self) -> None:
        """Carry over what is not ours, write the manifest and swap the new site in."""
        try:
            if self.output.is_dir():
                self._keep_foreign()
            manifest = {"version": MANIFEST_VERSION, "files": dict(sorted(self.new.items()))}
            (self.tmp / MANIFEST).write_text(json.dumps(manifest, indent=0), encoding="utf-8")
            if not self.output.exists():
                os.rename(self.tmp, self.output)
                return
            os.chmod(self.tmp, self.output.stat().st_mode & 0o7777)  # the folder keeps its mode
            if _exchange(self.tmp, self.output):
                shutil.rmtree(self.tmp, ignore_errors=True)
                return
            old = self.output.parent / f".{self.output.name}.old-{uuid.uuid4().hex[:8]}"
            os.rename(self.output, old)
            os.rename(self.tmp, self.output)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            self._unlock()

    def _keep_foreign(self) -> None:
        """Put into the new site everything of the output folder that is not ours, as it is."""
        ours = set(self.old) | set(self.new) | {MANIFEST}
        our_dirs = {""}
        for rel in ours:
            parts = rel.split("/")[:-1]
            our_dirs.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
        cut = len(self._out) + 1
        for folder, dirs, files in os.walk(self._out):
            prefix = folder[cut:].replace(os.sep, "/")
            for name in sorted(dirs):
                rel = f"{prefix}/{name}" if prefix else name
                src = os.path.join(folder, name)
                if os.path.islink(src):  # a link to a folder: kept as a link, not followed
                    dirs.remove(name)
                    self._keep(rel, src, ours, our_dirs)
                elif rel not in our_dirs:
                    self._keep_dir(rel, src)
            for name in files:
                rel = f"{prefix}/{name}" if prefix else name
                if rel not in ours:
                    self._keep(rel, os.path.join(folder, name), ours, our_dirs)

    def _keep_dir(self, rel: str, src: str) -> None:
        dest = os.path.join(self.tmp, rel)
        if os.path.lexists(dest) and not os.path.isdir(dest):
            raise RenderError(f"{src}: a folder of yours stands where the site writes a file "
                              f"({rel}); move it, the site was left as it was")
        os.makedirs(dest, exist_ok=True)
        shutil.copystat(src, dest, follow_symlinks=False)

    def _keep(self, rel: str, src: str, ours: set[str], our_dirs: set[str]) -> None:
        """Carry one file or link of the user's over (a hard link; a copy where there are none)."""
        if rel in our_dirs:
            raise RenderError(f"{src}: a file of yours stands where the site needs a folder "
                              f"({rel}); move it, the site was left as it was")
        dest = os.path.join(self.tmp, rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        mode = os.lstat(src).st_mode
        if stat.S_ISLNK(mode):
            os.symlink(os.readlink(src), dest)
        elif stat.S_ISREG(mode):
            try:
                os.link(src, dest, follow_symlinks=False)
            except OSError:
                shutil.copy2(src, dest, follow_symlinks=False)
        else:  # a socket, a pipe, a device: nothing a web server serves
            log.warning("%s: not a file, a folder or a link; not carried into the new site", src)

    def abort(self) -> None:
        try:
            shutil.rmtree(self.tmp, ignore_errors=True)
        finally:
            self._unlock()


def _lock(path: Path) -> int | None:
    """Take the output folder's build lock (waiting for a build that holds it)."""
    if fcntl is None:  # pragma: no cover
        return None
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise RenderError(f"{path}: cannot create the build lock: {e.strerror or e}") from e
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("%s: another build is writing this output folder; waiting for it",
                        path.parent)
            fcntl.flock(fd, fcntl.LOCK_EX)
    except BaseException:
        os.close(fd)
        raise
    return fd


_renameat2 = None


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); False when unsupported."""
    global _renameat2
    if _renameat2 is None:
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            fn = libc.renameat2
            fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                           ctypes.c_uint]
            _renameat2 = fn
        except (OSError, AttributeError):
            _renameat2 = False
    if not _renameat2:
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = _renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return rc == 0
