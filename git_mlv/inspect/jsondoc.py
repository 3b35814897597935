"""JSON documents (``.json``: one object or array, not JSON Lines): their shape, and the values of
small ones.

What a data scientist looks for in a metrics file is which number moved; in a COCO annotations
file of 50 MB, how many images, annotations and categories there are. A summary therefore has

- ``structure``: the document's root, then each member of a root object, one a line: ``PATH TYPE``,
  with the count of keys of an object and of items of an array (``.images array 5000``);
- for a document of at most SMALL bytes, every scalar value in document order with its path
  (``.metrics.accuracy 0.93``, ``.images[0].id 42``), up to MAX_VALUES lines.

A ``.json`` that holds one object a line is the JSON Lines table it is (``format jsonl``).

Memory stays bounded: a small document is parsed by Python's json; a bigger one is never parsed
whole but scanned a block at a time with numpy for its brackets, quotes, commas and colons (which
gives the structure, not the values; its grammar is checked only that far: brackets that match and
strings that end).
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from . import Summary
from .fallback import NotThisFormat
from .fmt import number, quoted

SMALL = 4 << 20  # parsed whole (Python's objects take ~10 times the text): values listed
MAX_VALUES = 1000  # value lines of a small document; then "values not shown N"
MAX_MEMBERS = 1000  # members of a root object listed; then "members not shown N"
BLOCK = 1 << 20  # a big document is scanned this many bytes at a time
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TYPE_OF_FIRST = {ord("{"): "object", ord("["): "array", ord('"'): "string", ord("t"): "boolean",
                  ord("f"): "boolean", ord("n"): "null"}
_WS = b" \t\r\n"


def summarize(path: str) -> Summary:
    size = os.path.getsize(path)
    if size <= SMALL:
        with open(path, "rb") as f:
            data = f.read()
        try:
            text = data.decode("utf-8-sig")
            doc = json.loads(text)
        except json.JSONDecodeError as e:
            if e.msg == "Extra data" and text[e.pos:e.pos + 1] == "{":
                return _lines(path)  # one object a line: JSON Lines under a .json name
            raise NotThisFormat(str(e)) from None
        except (UnicodeDecodeError, RecursionError) as e:
            why = "nested too deeply" if isinstance(e, RecursionError) else str(e)
            raise NotThisFormat(why) from None
        if not isinstance(doc, (dict, list)):
            raise NotThisFormat("not an object or an array (a single value)")
        return Summary("json", size, _structure_of(doc) + _values(doc))
    try:
        with open(path, "rb", buffering=0) as f:
            return Summary("json", size, _scan(f, size))
    except _Lines:
        return _lines(path)


class _Lines(Exception):
    """A second value at the top: JSON Lines, not one document."""


def _lines(path: str) -> Summary:
    """A ``.json`` of one object a line (pandas' ``to_json(lines=True)`` names it what the user
    says) summarised as the JSON Lines table it is: ``format jsonl``."""
    from . import tables
    from .detect import Kind

    return tables.summarize(path, Kind("jsonl", "table"))


def key(parent: str, name: str) -> str:
    """``.name``, or ``.["a name"]`` for a name that is not a word (quoted and escaped as a value)."""
    return f"{parent}.{name}" if _NAME.fullmatch(name) else f'{parent}.[{quoted(name, 200)}]'


def _describe(v: Any) -> str:
    if isinstance(v, dict):
        return f"object {len(v)} keys"
    if isinstance(v, list):
        return f"array {len(v)}"
    if isinstance(v, bool):
        return "boolean"
    if v is None:
        return "null"
    return "string" if isinstance(v, str) else "number"


def _structure_of(doc: dict[str, Any] | list[Any]) -> list[str]:
    lines = [f"structure . {_describe(doc)}"]
    if isinstance(doc, dict):
        for i, (k, v) in enumerate(doc.items()):
            if i == MAX_MEMBERS:
                lines.append(f"members not shown {len(doc) - MAX_MEMBERS}")
                break
            lines.append(f"structure {key('', k)} {_describe(v)}")
    return lines


def _values(doc: Any) -> list[str]:
    """Every scalar with its path, in document order, up to MAX_VALUES; then how many more. An
    iterative walk (no recursion limit to reach) that builds a path only for a value it shows: a
    4 MB array of 1.4 million numbers built them all (2.5 s, 230 MB)."""
    lines: list[str] = []
    stack: list[tuple[str, Any]] = [("", iter([("", doc)]))]
    while stack and len(lines) < MAX_VALUES:
        p, items = stack[-1]
        step = next(items, None)
        if step is None:
            stack.pop()
            continue
        name, v = step
        here = p if name == "" else key(p, name) if isinstance(name, str) else f"{p or '.'}[{name}]"
        if isinstance(v, dict):
            stack.append((here, iter(v.items())))
        elif isinstance(v, list):
            stack.append((here, enumerate(v)))
        else:
            value = quoted(v, 200) if isinstance(v, str) else "null" if v is None else number(v)
            lines.append(f"{here or '.'} {value}")
    hidden = sum(_scalars(v) for _, items in stack for _, v in items)
    if hidden:
        lines.append(f"values not shown {hidden}")
    return lines


def _scalars(v: Any) -> int:
    """How many scalars ``v`` holds (itself, when it is one), without recursion."""
    n, todo = 0, [v]
    while todo:
        x = todo.pop()
        if isinstance(x, dict):
            todo.extend(x.values())
        elif isinstance(x, list):
            todo.extend(x)
        else:
            n += 1
    return n


class _Member:
    """A member of a root object (or the root) being scanned: its key's place, type and count."""

    __slots__ = ("key", "type", "commas", "colons", "empty")

    def __init__(self, key: str, type_: str) -> None:
        self.key, self.type, self.commas, self.colons, self.empty = key, type_, 0, 0, True

    def line(self) -> str:
        if self.type == "object":
            return f"structure {self.key} object {self.colons} keys"
        if self.type == "array":
            return f"structure {self.key} array {0 if self.empty else self.commas + 1}"
        return f"structure {self.key} {self.type}"


def _scan(f: Any, size: int) -> list[str]:
    """The structure lines of a big document, from its brackets, quotes, commas and colons, found
    by numpy a BLOCK at a time: the root's members' keys and types are read where they are (a few
    bytes each), items and keys counted in bulk (np.searchsorted), only the root's and its members'
    brackets and colons handled one by one."""
    import numpy as np

    kinds = np.zeros(256, np.int8)  # 1 open, 2 close, 3 comma, 4 colon
    for c, k in ((b"{", 1), (b"[", 1), (b"}", 2), (b"]", 2), (b",", 3), (b":", 4)):
        kinds[c[0]] = k
    fd = f.fileno()
    start = _first_char(fd, 3 if os.pread(fd, 3, 0) == b"\xef\xbb\xbf" else 0, size)
    if start is None or os.pread(fd, 1, start) not in (b"{", b"["):
        raise NotThisFormat("not an object or an array")
    root_is_object = os.pread(fd, 1, start) == b"{"
    root = _Member(".", "object" if root_is_object else "array")
    members: list[_Member] = []
    hidden = 0  # members past MAX_MEMBERS
    current: _Member | None = None  # the root object's member whose value is open
    depth = 0
    root_closed = False
    in_string = False
    backslashes = 0  # the run of backslashes that ended the previous block
    last_quotes: list[int] = []  # the last two unescaped quotes seen (a key's ends)
    offset = 0
    while offset < size:
        block = os.pread(fd, min(BLOCK, size - offset), offset)
        if not block:
            raise NotThisFormat("the file shrank while read")
        a = np.frombuffer(block, np.uint8)
        n = len(a)
        idx = np.arange(n)
        bs = a == 92
        last_plain = np.maximum.accumulate(np.where(bs, -1, idx))
        q = np.flatnonzero(a == 34)
        # a quote is escaped when an odd run of backslashes precedes it (a run that began in the
        # previous block included); an escaped quote outside a string is not JSON, and taken as a
        # quote it leaves a string that does not end: unreadable, as it should be
        lp = np.where(q > 0, last_plain[np.maximum(q - 1, 0)], -1)
        run = q - 1 - lp + np.where(lp == -1, backslashes, 0)
        quotes = q[run % 2 == 0]
        s = np.flatnonzero(kinds[a])
        outside = (np.searchsorted(quotes, s) + int(in_string)) % 2 == 0
        s = s[outside]
        k = kinds[a[s]]
        delta = np.where(k == 1, 1, np.where(k == 2, -1, 0))
        after = depth + np.cumsum(delta)
        at = after - delta  # the depth a comma, colon or open is at; a close: after it
        at = np.where(k == 2, after, at)
        if len(after) and int(after.min()) < 0:
            raise NotThisFormat("a closing bracket that closes nothing")
        # one by one: the root's brackets, its members' brackets, the root object's colons
        if len(members) == MAX_MEMBERS and current is None:  # past the members listed (the last
            # one's value closed): their keys only counted
            more = int(np.count_nonzero((k == 4) & (at == 1)))
            root.colons += more
            hidden += more
            one = np.flatnonzero((k <= 2) & (at == 0))
        else:
            one = np.flatnonzero(((k <= 2) & (at <= 1 if root_is_object else at == 0))
                                 | ((k == 4) & (at == 1)))
        commas = {d: s[(k == 3) & (at == d)] for d in (1, 2)}
        colons2 = s[(k == 4) & (at == 2)]
        prev = -1
        for j in [*one.tolist(), None]:
            pos = int(s[j]) if j is not None else n
            lo, hi = prev + 1, pos
            # what lies between the last event and this one belongs to the container open there
            c1 = _between(commas[1], lo, hi)
            if c1:
                root.commas += c1
            if current is not None:
                current.commas += _between(commas[2], lo, hi)
                current.colons += _between(colons2, lo, hi)
            if j is None:
                break
            kind, d = int(k[j]), int(at[j])
            g = offset + pos
            if kind == 4:  # a root member's key: the string before this colon
                q_at = int(quotes.searchsorted(pos))
                qs = quotes[max(q_at - 2, 0):q_at]
                ends = ([*last_quotes, *(offset + int(x) for x in qs[-2:])])[-2:]
                if len(ends) < 2:
                    raise NotThisFormat("a colon without a key")
                root.colons += 1
                if len(members) == MAX_MEMBERS:  # counted, not read
                    current = None
                    hidden += 1
                else:
                    name = _key_text(fd, ends[0], ends[1])
                    first = _first_char(fd, g + 1, size)
                    t = _TYPE_OF_FIRST.get(os.pread(fd, 1, first)[0], "number") if first is not None else "?"
                    current = _Member(key("", name), t)
                    members.append(current)
            elif kind == 1 and d == 0:
                if root_closed:
                    raise _Lines
                nxt = _first_char(fd, g + 1, size)
                root.empty = nxt is not None and os.pread(fd, 1, nxt) in (b"]", b"}")
            elif kind == 1 and d == 1 and current is not None:
                nxt = _first_char(fd, g + 1, size)
                current.empty = nxt is not None and os.pread(fd, 1, nxt) in (b"]", b"}")
            elif kind == 2 and d == 0:
                root_closed = True
            elif kind == 2 and d == 1:
                current = None if root_is_object else current
            prev = pos
        depth = int(after[-1]) if len(after) else depth
        in_string = bool((len(quotes) + int(in_string)) % 2)
        if len(quotes):
            last_quotes = ([*last_quotes, *(offset + int(x) for x in quotes[-2:])])[-2:]
        tail = n - 1 - int(last_plain[-1])
        backslashes = tail + backslashes if tail == n else tail
        offset += n
    if depth != 0 or in_string:
        raise NotThisFormat("cut short: a bracket or a string that does not end")
    lines = [root.line()]
    lines += [m.line() for m in members]
    if hidden:
        lines.append(f"members not shown {hidden}")
    return lines


def _between(positions: Any, lo: int, hi: int) -> int:
    """How many of the sorted ``positions`` are in [lo, hi)."""
    return int(positions.searchsorted(hi) - positions.searchsorted(lo))


def _first_char(fd: int, pos: int, size: int) -> int | None:
    """Where the first byte from ``pos`` on that is not JSON whitespace is (None: none)."""
    while pos < size:
        chunk = os.pread(fd, 256, pos)
        stripped = chunk.lstrip(_WS)
        if stripped:
            return pos + len(chunk) - len(stripped)
        pos += len(chunk)
    return None


def _key_text(fd: int, open_quote: int, close_quote: int) -> str:
    """A key from its quotes' places (its first 1,000 bytes: a longer key is cut)."""
    raw = os.pread(fd, min(close_quote - open_quote - 1, 1000), open_quote + 1)
    try:
        return json.loads(b'"' + raw + b'"')  # type: ignore[no-any-return]
    except (json.JSONDecodeError, UnicodeDecodeError):
        return raw.decode("utf-8", "backslashreplace")
