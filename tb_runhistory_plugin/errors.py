"""Typed errors; each carries the HTTP status it maps to, in this one place."""

from __future__ import annotations


class RunHistoryError(Exception):
    """Base class of every error this package raises on purpose."""

    status = 500


class InvalidArgumentError(RunHistoryError, ValueError):
    """A caller passed a value that cannot be accepted."""

    status = 400


class QueryError(InvalidArgumentError):
    """A run query that cannot be parsed or means nothing; names the token, line and column (1-based)."""

    def __init__(self, message: str, *, query: str = "", token: str = "", line: int = 0, column: int = 0) -> None:
        self.token, self.line, self.column = token, line, column
        lines = query.splitlines()
        if line and 0 < line <= len(lines):
            message = f"{message} at line {line}, column {column}:\n  {lines[line - 1]}\n  {' ' * (column - 1)}^"
        elif line:
            message = f"{message} at line {line}, column {column}"
        super().__init__(message)


class NotFoundError(RunHistoryError, LookupError):
    """An experiment, run, metric or file that does not exist."""

    status = 404


class ConflictError(RunHistoryError):
    """The request contradicts stored state (a set property, a finished run)."""

    status = 409


class PayloadTooLargeError(RunHistoryError):
    """A request body or value over a documented size limit."""

    status = 413


class StoreError(RunHistoryError):
    """The store failed (I/O, database, server) for a reason not caused by the input."""

    status = 503


class RunTimeoutError(RunHistoryError, TimeoutError):
    """A wait for a run gave up (wait_for_completion's timeout); the message names the run."""

    status = 504


class RunFailedError(RunHistoryError):
    """A run that was waited for ended Failed; the message has its error."""


class WriteErrors(RunHistoryError):
    """The store refused points of several series; `errors` holds every refusal, in order."""

    def __init__(self, errors: list[RunHistoryError]) -> None:
        self.errors = list(errors)
        statuses = {e.status for e in self.errors}
        self.status = statuses.pop() if len(statuses) == 1 else 500
        lines = "\n".join(f"  {type(e).__name__}: {e}" for e in self.errors)
        super().__init__(f"the store refused points of {len(self.errors)} series:\n{lines}")


_BY_STATUS = {cls.status: cls for cls in (InvalidArgumentError, NotFoundError, ConflictError, PayloadTooLargeError, StoreError)}


def error_for_status(status: int, message: str) -> RunHistoryError:
    """Rebuild the typed error for an HTTP status (the REST client uses this)."""
    return _BY_STATUS.get(status, RunHistoryError)(message)
