"""Which character separates the fields of a ``.csv``: sniffed from the first lines of the file.

Excel in much of Europe writes ``;`` between fields (``,`` is the decimal mark there), and tab- or
pipe-separated files are often named ``.csv`` too. Read with commas, such a file is one column of
whole lines, or no table at all ("Expected 1 columns, got 2").

The rule is cheap and deterministic: in the first ``SNIFF_RECORDS`` records of the head (records
end at newlines outside double quotes; quoted text is not counted), a candidate is *consistent*
when it occurs the same number of times, at least once, in every record. The comma wins whenever
it is consistent (a file pyarrow read well before is read the same way); otherwise the consistent
candidate with the most fields, ties in the order ``; \\t |``; with none consistent, the comma
(pyarrow then reports what is wrong). Python's ``csv.Sniffer`` was not used: it guesses from
character frequencies over any character, and its answer moves with the sample's length.

The head also tells how the text is written where pyarrow would not read it: a header that is not
UTF-8 (``foreign_header``) and UTF-16 text (``decoded``; tables.sniffed sees its byte-order mark).
"""

from __future__ import annotations

import re
from typing import Any

from .detect import Kind
from .stats import unique_names

CANDIDATES = (",", ";", "\t", "|")
SNIFF_BYTES = 64 << 10
SNIFF_RECORDS = 50
_QUOTED = re.compile(rb'"[^"]*"')


def _records(head: bytes, complete: bool) -> list[bytes]:
    """Up to SNIFF_RECORDS records of ``head`` with their quoted text removed; a last record that
    may be cut (``complete`` False: the head is not the whole file) is left out."""
    lines = head.split(b"\n")
    if not complete or lines[-1] == b"":
        lines.pop()  # cut short, or the empty text after the final newline
    out: list[bytes] = []
    pending = b""
    for line in lines:
        pending = pending + b"\n" + line if pending else line
        if pending.count(b'"') % 2:  # a quoted value goes on on the next line
            continue
        record = _QUOTED.sub(b"", pending.rstrip(b"\r"))
        pending = b""
        if record:
            out.append(record)
        if len(out) >= SNIFF_RECORDS:
            break
    return out


def sniff_delimiter(head: bytes, complete: bool = True) -> str:
    """The field delimiter of a CSV file that starts with ``head`` (``complete``: ``head`` is the
    whole file, so its last line is whole)."""
    records = _records(head, complete)
    if not records:
        return ","
    best, fields = ",", 0
    for c in CANDIDATES:
        sep = c.encode()
        counts = {r.count(sep) for r in records}
        if len(counts) != 1 or 0 in counts:
            continue
        if c == ",":
            return c
        n = counts.pop()
        if n > fields:
            best, fields = c, n
    return best


def foreign_header(head: bytes, delimiter: str, complete: bool = True) -> tuple[tuple[str, ...], int] | None:
    """(the column names, the lines they span) of a header (the first record of ``head``) that
    pyarrow cannot be left to read, else None: one that is not UTF-8, or one that repeats a name.

    pyarrow decodes a CSV's header as UTF-8 and stops on anything else ("'utf-8' codec can't
    decode byte 0xe9"), while it reads such values as bytes: a CSV that Excel saved in Windows-1252
    with ``Qté;Année`` on its first line was no table at all, for the summary and for `git mlv
    diff`. Such a header is read here, as pyarrow would split it (double quotes, doubled to escape
    one), each name decoded from UTF-8 with any other byte written ``\\xe9``, as a summary writes
    bytes; the reader is then given these names and skips the header's lines. A repeated name
    (a spreadsheet's two columns headed ``x``) is made unique (``x.1``, stats.unique_names) the
    same way: pyarrow's column types are keyed by name, so two columns of one name shared one
    type, and the numbers of the second read as text once the first held any."""
    import csv
    import io

    head = head.removeprefix(b"\xef\xbb\xbf")
    end = 0
    while True:  # the first record ends at a newline outside double quotes
        nl = head.find(b"\n", end)
        if nl < 0:
            if not complete:
                return None  # a header cut by the head: left to pyarrow, as before
            record = head
            break
        if head.count(b'"', 0, nl) % 2 == 0:
            record = head[:nl]
            break
        end = nl + 1
    record = record.removesuffix(b"\r")
    fields = next(csv.reader(io.StringIO(record.decode("latin-1"), newline=""), delimiter=delimiter), [])
    try:
        record.decode("utf-8")
        if len(set(fields)) == len(fields):
            return None  # pyarrow reads it as it is
    except UnicodeDecodeError:
        pass
    names = [f.encode("latin-1").decode("utf-8", "backslashreplace") for f in fields]
    return tuple(unique_names(names)), record.count(b"\n") + 1


def decoded(stream: Any, kind: Kind) -> Any:
    """``stream`` (a pyarrow stream of the file's decompressed bytes) as UTF-8, for a kind whose
    text is in another encoding (``Kind.encoding``); else ``stream`` itself."""
    if kind.encoding is None:
        return stream
    import pyarrow as pa

    return pa.transcoding_input_stream(stream, kind.encoding, "utf-8")
