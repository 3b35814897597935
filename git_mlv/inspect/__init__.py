"""Readable summaries of data files: what ``git diff`` shows for a tracked file (``git mlv textconv``).

A summary is a pure function of a file's bytes (and its name, for the format): one fact per line,
in a stable order, so that git's own line diff of two summaries shows exactly what moved::

    format csv
    size 300000110 (286.1 MiB)
    rows 2727272
    column id int64
    ...
    f0 mean 49.998713

Every reader streams or reads only headers and footers: memory stays bounded whatever the file
size (docs/inspect.md has the formats, the limits and the measurements). pyarrow and numpy are
imported by the modules that need them, not here: git starts ``textconv`` once per changed file.

Layer: like ``remotes`` and ``pipeline``, this package sits on ``core`` and libraries only; it
knows nothing of git.
"""

from __future__ import annotations

from .detect import Kind, detect


class Summary:
    """What a file holds, as facts; ``lines()`` is the text ``git diff`` compares.

    A plain class, not a dataclass: importing ``dataclasses`` costs ~9 ms of CPU (it imports the
    stdlib's ``inspect``), and textconv answering from the summary cache imports this package."""

    __slots__ = ("kind", "size", "facts", "schema", "rows")

    def __init__(self, kind: str, size: int, facts: list[str] | None = None,
                 schema: list[tuple[str, str]] | None = None, rows: int | None = None) -> None:
        #: the format: "csv", "parquet", "npy", "safetensors", "png", "binary", "pointer"...
        self.kind = kind
        self.size = size
        self.facts: list[str] = [] if facts is None else facts
        #: tables only: (name, type) of each column, and the row count (None when unknown)
        self.schema = schema
        self.rows = rows

    def __repr__(self) -> str:
        return (f"Summary(kind={self.kind!r}, size={self.size!r}, facts={self.facts!r}, "
                f"schema={self.schema!r}, rows={self.rows!r})")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Summary):
            return NotImplemented
        return all(getattr(self, a) == getattr(other, a) for a in self.__slots__)

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclass was

    def lines(self) -> list[str]:
        """The summary as lines: the format, the size, then the facts of that format."""
        from .fmt import size_line

        return [f"format {self.kind}", size_line(self.size), *self.facts]

    def text(self) -> str:
        """``lines()`` joined, ending in a newline."""
        return "".join(line + "\n" for line in self.lines())


def summarize(path: str, name: str | None = None) -> Summary:
    """The summary of the file at ``path``; ``name`` (default ``path``) gives its extension.

    A file that is not in the format its name or magic suggests is summarised as plain bytes
    (size and sha256) with a note, never an error: ``git diff`` must always show something.
    """
    kind = detect(path, name or path)
    return summarize_as(path, kind)


def summarize_as(path: str, kind: Kind) -> Summary:
    """The summary of ``path`` read as ``kind`` (falls back to bytes when it does not parse)."""
    from . import fallback

    try:
        if kind.family == "table":
            from . import tables

            return tables.summarize(path, kind)
        if kind.family == "columnar":
            from . import columnar

            return columnar.summarize(path, kind)
        if kind.name in ("npy", "npz"):
            from . import arrays

            return arrays.summarize(path, kind)
        if kind.name == "safetensors":
            from . import safetensors

            return safetensors.summarize(path)
        if kind.name == "pickle":
            from . import pickles

            return pickles.summarize(path)
        if kind.name == "torch":
            from . import torchfile

            return torchfile.summarize(path)
        if kind.name == "tfrecord":
            from . import tfrecord

            return tfrecord.summarize(path)
        if kind.name == "onnx":
            from . import onnxfile

            return onnxfile.summarize(path)
        if kind.name == "hdf5":
            from . import hdf5

            return hdf5.summarize(path)
        if kind.name == "json":
            from . import jsondoc

            return jsondoc.summarize(path)
        if kind.family == "image":
            from . import images

            return images.summarize(path, kind)
        if kind.name == "pointer":
            return fallback.pointer(path)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    # NotThisFormat, pyarrow's parse errors, and numbers a damaged file holds that Python cannot
    # make (ArithmeticError: a decimal beyond its precision raises decimal.InvalidOperation)
    except (ValueError, NotImplementedError, OSError, ArithmeticError) as e:
        return fallback.summarize(path, note=f"not a readable {kind.name} file: {reason(e)}")
    return fallback.summarize(path)


def reason(e: BaseException) -> str:
    """Why a file could not be read, on one line: the error's first line, cut at 200 characters
    (pyarrow quotes the row it could not read, however long it is) and escaped as a value is
    (``fmt.text``): the row is the file's bytes, and a terminal must not run their escape codes."""
    from .fmt import text

    first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return text(first, 200)


__all__ = ["Kind", "Summary", "detect", "reason", "summarize", "summarize_as"]
