"""Paths as git prints them: one path on one line, none of its bytes sent to a terminal raw.

git C-quotes a path holding a control character, a double quote or a backslash (core.quotePath
also quotes non-ASCII; we keep unicode as it is, as with core.quotePath=false). A file name is the
repository's content: a clone of anyone's repository can hold a newline or an ESC in a name, and a
warning that printed it raw split its line or ran the escape code.
"""

from __future__ import annotations

_C_ESCAPES = {"\a": "\\a", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\v": "\\v", "\f": "\\f",
              "\r": "\\r", '"': '\\"', "\\": "\\\\"}


def _plain(path: str) -> bool:
    return not any(c < " " or c in '"\\\x7f' or "\udc80" <= c <= "\udcff" for c in path)


def quote_path(path: str) -> str:
    """``path`` as git prints it in a listing: as it is, unless it holds a control character, a
    double quote or a backslash; then C-quoted in double quotes (a newline as ``\\n``), so that one
    path is one line; bytes that are not UTF-8 as octal escapes. Other characters (unicode) stay as
    they are, as with core.quotePath=false."""
    if _plain(path):
        return path
    return '"' + "".join(_quote_char(c) for c in path) + '"'


def named(path: str) -> str:
    """``path`` inside a sentence: ``'data/x.bin'``, or C-quoted as ``quote_path`` does (then in
    its double quotes only) when it holds a character that needs it."""
    return f"'{path}'" if _plain(path) else quote_path(path)


def _quote_char(c: str) -> str:
    if c in _C_ESCAPES:
        return _C_ESCAPES[c]
    if c < " " or c == "\x7f":
        return f"\\{ord(c):03o}"
    if "\udc80" <= c <= "\udcff":  # a byte that is not UTF-8 (surrogateescape): its octal, as git
        return f"\\{ord(c) - 0xDC00:03o}"
    return c
