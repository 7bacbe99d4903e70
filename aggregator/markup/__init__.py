"""Untrusted HTML made safe: a small tree (``htmltree``) and the sanitiser built on it
(``sanitize``: nh3, excerpts, plain text)."""
