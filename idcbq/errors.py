"""Error types. Each carries what a user needs to fix the input, and a CLI exit code.

Exit codes are part of the interface (scheduled jobs branch on them):

=====  ==========================================================
code   meaning
=====  ==========================================================
0      success
1      generic failure / ``templates check`` found problems
2      bad input: usage, validation, template, parameter, spec
3      cost guard refused the query (estimate above the cap)
4      the query failed on the engine
5      download: some files failed or could not be verified
6      source/data problem (missing or corrupt Parquet, unknown version)
7      another run holds the job lock (or another download uses ``--dest``)
8      local file system: no space, read-only, permission denied, not a directory
=====  ==========================================================
"""

from __future__ import annotations

from dataclasses import dataclass


class ExitCode:
    OK = 0
    FAILURE = 1
    BAD_INPUT = 2
    COST_CAP = 3
    QUERY_FAILED = 4
    DOWNLOAD_FAILED = 5
    SOURCE_ERROR = 6
    LOCKED = 7
    LOCAL_FS = 8


@dataclass(frozen=True)
class Location:
    """Where in a file a problem is: 1-based line and column, plus the offending line.

    Example:
        >>> str(Location("sql/x.sql", 3, 7, "SELECT Modalty"))
        'sql/x.sql:3:7'
    """

    path: str | None = None
    line: int | None = None
    column: int | None = None
    snippet: str | None = None

    def __str__(self) -> str:
        parts = [self.path or "<string>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def render_snippet(self) -> str:
        """The offending line with a caret under the column."""
        if not self.snippet:
            return ""
        text = f"    {self.snippet}"
        if self.column:
            text += "\n    " + " " * (self.column - 1) + "^"
        return text


class IdcbqError(Exception):
    """Base of every error idcbq raises on purpose; the CLI prints it without a traceback."""

    exit_code: int = ExitCode.FAILURE

    def __init__(self, message: str, *, location: Location | None = None, hint: str | None = None):
        self.message = message
        self.location = location
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        head = f"{self.location}: {self.message}" if self.location else self.message
        snippet = self.location.render_snippet() if self.location else ""
        if snippet:
            head += "\n" + snippet
        if self.hint:
            head += f"\n  hint: {self.hint}"
        return head


class UsageError(IdcbqError):
    exit_code = ExitCode.BAD_INPUT


class ParameterError(IdcbqError):
    """A parameter value is missing, unknown or of the wrong type."""

    exit_code = ExitCode.BAD_INPUT


class TemplateError(IdcbqError):
    """A template's header, Jinja or SQL is invalid."""

    exit_code = ExitCode.BAD_INPUT


class ValidationError(TemplateError):
    """Rendered SQL was rejected before any engine saw it."""


class TranspileError(TemplateError):
    """BigQuery SQL cannot be expressed faithfully in the target dialect."""


class SourceError(IdcbqError):
    """An export root, Parquet file or IDC version is missing or broken."""

    exit_code = ExitCode.SOURCE_ERROR


class QueryError(IdcbqError):
    """The engine ran the query and it failed."""

    exit_code = ExitCode.QUERY_FAILED


class CostCapError(IdcbqError):
    """The dry-run estimate is above the allowed bytes billed."""

    exit_code = ExitCode.COST_CAP


class AuthError(IdcbqError):
    exit_code = ExitCode.BAD_INPUT


class ManifestError(IdcbqError):
    exit_code = ExitCode.BAD_INPUT


class DownloadError(IdcbqError):
    exit_code = ExitCode.DOWNLOAD_FAILED


class JobSpecError(IdcbqError):
    exit_code = ExitCode.BAD_INPUT


class JobLockedError(IdcbqError):
    exit_code = ExitCode.LOCKED


class LocalFileError(IdcbqError):
    """A local path cannot be written or read: no space, read-only, permission, not a directory."""

    exit_code = ExitCode.LOCAL_FS


class DestinationLockedError(IdcbqError):
    """Another ``idcbq download`` is writing into the same destination."""

    exit_code = ExitCode.LOCKED
