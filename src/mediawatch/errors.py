"""The exception hierarchy. Messages name the thing that failed (file, line, source, URL)."""

from __future__ import annotations


class MediawatchError(Exception):
    """Base of every error mediawatch raises on purpose."""


class ConfigError(MediawatchError):
    """Invalid sources file or settings. Fatal at start-up; the CLI exits with code 2."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


class SourceError(MediawatchError):
    """A problem with one source. Never fatal to a collection run."""

    def __init__(self, source_id: str, reason: str, *, url: str | None = None) -> None:
        super().__init__(f"{source_id}: {reason}" + (f" ({url})" if url else ""))
        self.source_id = source_id
        self.reason = reason
        self.url = url

    def __reduce__(self) -> tuple[object, ...]:
        # picklable with its keyword fields, so errors cross process boundaries (parsing runs in a pool)
        state = {k: v for k, v in self.__dict__.items() if k not in ("source_id", "reason")}
        return (_rebuild, (type(self), self.source_id, self.reason, state))


class FetchError(SourceError):
    """Transport failure or bad HTTP status. ``transient`` errors are retried."""

    def __init__(
        self,
        source_id: str,
        reason: str,
        *,
        url: str | None = None,
        status: int | None = None,
        transient: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(source_id, reason, url=url)
        self.status = status
        self.transient = transient
        self.retry_after = retry_after


class ParseError(SourceError):
    """The response arrived but is not what the source kind expects (not a feed, XML error, …)."""


class ClassifierUnavailable(MediawatchError):
    """The embedding model could not be loaded; items are still collected."""


class StoreError(MediawatchError):
    """A database problem; fatal to the current run only."""


def _rebuild(cls: type[SourceError], source_id: str, reason: str, state: dict[str, object]) -> SourceError:
    err = cls.__new__(cls)
    SourceError.__init__(err, source_id, reason, url=state.get("url"))  # type: ignore[arg-type]
    err.__dict__.update(state)
    return err
