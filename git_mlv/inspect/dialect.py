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
"""

from __future__ import annotations

import re

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
