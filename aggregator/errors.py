"""The one error tree of the aggregator.

Third-party errors are wrapped at the edge of the module that meets them
(``raise FetchError(...) from e``) so callers only ever catch these.
"""


class AggregatorError(Exception):
    """Base of every error the aggregator raises on purpose."""


class ConfigError(AggregatorError):
    """The configuration file is missing, unreadable or invalid.

    ``path`` names the file, ``key`` the key path inside it (``feeds[3].url``)
    and ``hint`` what to do about it.
    """

    def __init__(self, message: str, *, path: str | None = None, key: str | None = None,
                 hint: str | None = None):
        self.path = path
        self.key = key
        self.hint = hint
        self.message = message
        where = path or "config"
        if key:
            where = f"{where}: {key}"
        text = f"{where}: {message}"
        if hint:
            text += f" (hint: {hint})"
        super().__init__(text)


class ConfigErrors(ConfigError):
    """Several problems in one configuration file, each a ``ConfigError``; the first one's
    ``path``, ``key`` and ``hint`` are this error's, and its text lists them all, one a line."""

    def __init__(self, errors: "list[ConfigError]"):
        self.errors = list(errors)
        first = self.errors[0]
        super().__init__(first.message, path=first.path, key=first.key, hint=first.hint)

    def __str__(self) -> str:
        if len(self.errors) == 1:
            return str(self.errors[0])
        return f"{len(self.errors)} problems:\n" + "\n".join(f"  {e}" for e in self.errors)


class FetchError(AggregatorError):
    """A feed could not be downloaded (network, HTTP status, size cap...)."""


class ParseError(AggregatorError):
    """A feed's bytes could not be turned into entries at all."""


class StoreError(AggregatorError):
    """The SQLite store could not be opened, migrated or written."""


class RenderError(AggregatorError):
    """The site could not be rendered or published."""
