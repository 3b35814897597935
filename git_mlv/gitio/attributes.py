"""The ``.gitattributes`` lines that route files through git-mlv.

A pattern is written so that git reads back exactly that pattern (gitattributes(5)):

- a space as ``[[:space:]]`` (git splits a line at whitespace; git-lfs writes spaces the same way,
  and so did every line written before; the class matches a tab too);
- a leading ``#`` or ``"`` after a backslash (a line starting with ``#`` is a comment, one starting
  with ``"`` a quoted pattern);
- a pattern holding a character that cannot stand in a line as it is (a tab, a line break, another
  control character, a byte that is not UTF-8) in git's C-quoted form, ``"/a\\tb.dat"``, which git
  unquotes before matching. Only such patterns are quoted: a git older than quoted patterns reads
  every other line as before.

What cannot be written is refused (``problem``): a leading ``!`` (a negation, which gitattributes
ignores), a leading ``[attr]`` (a macro definition), a line git would ignore for its length.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from ..core.fsutil import atomic_write
from ..errors import UsageError

if TYPE_CHECKING:
    from .git import Repo

ATTRS = "filter=mlv diff=mlv merge=mlv -text"
FILENAME = ".gitattributes"
UNSET = "!filter !diff !merge !text"

# git since the fix of CVE-2022-23521 (2.39.1, 2.30.7...) ignores, with a warning, a line of 2048
# bytes or more (measured: 2047 read, 2048 ignored)
MAX_LINE = 2047
_BLANK = " \t\r\n"  # what separates the fields of a line, as git's attr.c has it
_BLANKS = re.compile("[ \t\r\n]+")
_OCTAL = re.compile("[0-3][0-7]{2}")
_C_ESCAPES = {"\a": "\\a", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\v": "\\v", "\f": "\\f",
              "\r": "\\r", '"': '\\"', "\\": "\\\\"}
_C_UNESCAPES = {v[1]: k for k, v in _C_ESCAPES.items()}


def literal(path: str) -> str:
    """A pattern that matches ``path`` itself and nothing else: gitattributes patterns are globs,
    so ``a[1].bin`` matched ``a1.bin``; its glob characters, and a ``#`` or ``!`` that would start
    a comment or a negation, are escaped with a backslash."""
    return "".join("\\" + c if c in "*?[]\\!#" else c for c in path)


def anchored(path: str, folder: bool = False) -> str:
    """The pattern of ``path`` from the repository's root, taken literally (``literal``): the
    file itself, or for a ``folder`` everything under it."""
    return f"/{literal(path)}/**" if folder else f"/{literal(path)}"


def from_folder(folder: str, pattern: str) -> str:
    """The root-``.gitattributes`` pattern matching what ``pattern`` matches when written in the
    ``.gitattributes`` of ``folder`` (relative to the root, ``/``-separated; ``.`` for the root):
    a name without a slash matches at any depth below the folder (``data/**/*.csv``); one with a
    slash, or a leading one, is anchored at the folder (``data/sub/**``)."""
    if folder in ("", "."):
        return pattern
    base = literal(folder)
    if pattern.startswith("/"):
        return base + pattern
    if "/" in pattern.rstrip("/"):
        return f"{base}/{pattern}"
    return f"{base}/**/{pattern}"


def _unsafe(c: str) -> bool:
    """A character that cannot stand in a line as it is: a control character (C0, DEL, C1), a
    line or paragraph separator (Python's splitlines breaks at them), or a byte that is not UTF-8
    (surrogateescape)."""
    return c < " " or "\x7f" <= c <= "\x9f" or c in "\u2028\u2029" or "\udc80" <= c <= "\udcff"


def _c_quote(pattern: str) -> str:
    out = []
    for c in pattern:
        if c in _C_ESCAPES:
            out.append(_C_ESCAPES[c])
        elif _unsafe(c):
            raw = c.encode("utf-8", "surrogateescape")
            out.append("".join(f"\\{b:03o}" for b in raw))
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def _c_unquote(text: str) -> tuple[str, int] | None:
    """The string a C-quoted ``text`` starts with and the index after its closing quote, read as
    git's unquote_c_style does; None when ``text`` does not start with a well-formed one."""
    if not text.startswith('"'):
        return None
    out = bytearray()
    i = 1
    while i < len(text):
        c = text[i]
        if c == '"':
            return out.decode("utf-8", "surrogateescape"), i + 1
        if c != "\\":
            out += c.encode("utf-8", "surrogateescape")
            i += 1
            continue
        e = text[i + 1:i + 2]
        octal = _OCTAL.match(text, i + 1)
        if e and e in _C_UNESCAPES:
            out += _C_UNESCAPES[e].encode()
            i += 2
        elif octal:  # a byte; git takes three digits, the first 0-3
            out.append(int(octal.group(), 8))
            i += 4
        else:
            return None
    return None


def field(pattern: str) -> str:
    """``pattern`` as the first field of a ``.gitattributes`` line, written so that git reads back
    exactly that pattern (see the module docstring)."""
    if any(_unsafe(c) for c in pattern):
        return _c_quote(pattern)
    text = pattern.replace(" ", "[[:space:]]")
    return "\\" + text if text.startswith(("#", '"')) else text


def display(pattern: str) -> str:
    """``pattern`` as a listing prints it: as it is, or its quoted ``field`` when it holds a
    character that cannot be printed on one line; ``untrack`` takes either."""
    return _c_quote(pattern) if any(_unsafe(c) for c in pattern) else pattern


def quoted(pattern: str) -> str:
    """``pattern`` in double quotes for a message: C-quoted when it holds a double quote or a
    character ``display`` quotes, so that the quotes cannot be misread."""
    return _c_quote(pattern) if '"' in pattern or display(pattern) != pattern else f'"{pattern}"'


def line(pattern: str, attrs: str = ATTRS) -> str:
    """The ``.gitattributes`` line giving ``pattern`` the attributes ``attrs``."""
    return f"{field(pattern)} {attrs}"


def problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be written as a line that git reads as that pattern with our
    attributes; None when it can."""
    if not pattern:
        return "an empty pattern matches nothing"
    if pattern.startswith("!"):
        return ("a leading '!' negates a pattern, which .gitattributes does not allow; "
                "write '\\!' for a name starting with '!'")
    if pattern.startswith("[attr]"):
        return ("a line starting with '[attr]' defines an attribute macro; "
                "write the class another way, e.g. '[rat]' for '[attr]'")
    size = len(line(pattern).encode("utf-8", "surrogateescape"))
    if size > MAX_LINE:
        return (f"its .gitattributes line would be {size} bytes, and git ignores a line of "
                f"{MAX_LINE + 1} bytes or more; track a folder above it instead")
    return None


def parse(text: str) -> tuple[str, list[str]] | None:
    """The pattern and the attributes of one ``.gitattributes`` line, as git reads it (a quoted
    pattern unquoted, ``[[:space:]]`` read as the space we write it for, a leading ``\\#`` or
    ``\\"`` as the character); None for a blank line or a comment."""
    rest = text.lstrip(_BLANK)
    if not rest or rest.startswith("#"):
        return None
    quoted = _c_unquote(rest)
    if quoted is not None:
        pattern, end = quoted
    else:
        end = next((i for i, c in enumerate(rest) if c in _BLANK), len(rest))
        pattern = rest[:end].replace("[[:space:]]", " ")
        if pattern.startswith(("\\#", '\\"')):
            pattern = pattern[1:]
    attrs = rest[end:].strip(_BLANK)
    return pattern, _BLANKS.split(attrs) if attrs else []


def _ours(text: str) -> str | None:
    """The pattern of a line that routes files through git-mlv; None for any other line."""
    parsed = parse(text)
    return parsed[0] if parsed and "filter=mlv" in parsed[1] else None


# A UTF-8 byte order mark (Notepad, PowerShell's `Out-File -Encoding utf8`): git skips it at the
# start of a .gitattributes (attr.c, skip_utf8_bom); read as part of the first pattern, `track`
# listed "\ufeff*.h5", `untrack '*.h5'` said it was not tracked and `track '*.h5'` added it again.
_BOM = "\ufeff"


def _lines(text: str) -> list[str]:
    """The lines of a ``.gitattributes`` as git splits them: at a newline only (a CR before it
    dropped, as git does reading a file), a byte order mark at the start skipped."""
    lines = text.removeprefix(_BOM).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


def _read(worktree: str) -> list[str]:
    try:
        with open(os.path.join(worktree, FILENAME), "rb") as f:
            return _lines(f.read().decode("utf-8", "surrogateescape"))
    except FileNotFoundError:
        return []


def _write(worktree: str, lines: list[str]) -> None:
    """Write the root ``.gitattributes``, with the line ends its first line has (a file written on
    Windows keeps its CRLFs: before, one `track` turned every line into a change in `git diff`),
    and its byte order mark."""
    path = os.path.join(worktree, FILENAME)
    eol, bom = "\n", ""
    try:
        with open(path, "rb") as f:
            first = f.readline()
        if first.endswith(b"\r\n"):
            eol = "\r\n"
        if first.startswith(_BOM.encode()):
            bom = _BOM
    except FileNotFoundError:
        pass
    data = (bom + eol.join(lines) + eol).encode("utf-8", "surrogateescape") if lines else b""
    atomic_write(path, data)


def _check_attr(repo: Repo, attr: str, paths: Sequence[str]) -> Iterator[tuple[str, bytes]]:
    """(path, value) of ``attr`` for each of ``paths``: one ``git check-attr --stdin``, streamed."""
    for path, _, value in _check_attrs(repo, (attr,), paths):
        yield path, value


def _check_attrs(repo: Repo, attrs: Sequence[str], paths: Sequence[str]
                 ) -> Iterator[tuple[str, bytes, bytes]]:
    """(path, attribute, value) of each of ``attrs`` for each of ``paths``, in git's order (a
    path's attributes together): one ``git check-attr --stdin``, streamed."""
    from .walk import repo_records

    records = repo_records(repo, ["check-attr", "-z", "--stdin", *attrs],
                           b"".join(os.fsencode(p) + b"\0" for p in paths))
    for path, attr, value in zip(records, records, records):  # <path> NUL <attr> NUL <value> NUL
        yield os.fsdecode(path), attr, value


def filtered(repo: Repo, paths: Sequence[str]) -> set[str]:
    """Which of ``paths`` git sends through ``filter=mlv`` now, by git's own rules (every
    ``.gitattributes``, info/attributes, core.attributesFile, macros): one ``git check-attr
    --stdin`` for all of them, its answer streamed. ~1 s for 600,000 paths (1.3 s wall, 0.6 s
    user, measured), so callers ask about the few paths that need it, never every tracked file."""
    if not paths:
        return set()
    return {path for path, value in _check_attr(repo, "filter", paths) if value == b"mlv"}


def text_not_unset(repo: Repo, paths: Sequence[str]) -> list[str]:
    """Those of ``paths`` that git sends through ``filter=mlv`` and whose ``text`` attribute is
    not the ``-text`` our lines write: set, ``auto`` or unspecified by a later line (then git
    converts their pointers' line ends with core.autocrlf or ``eol``). A path no pattern tracks
    (a pointer `git mv`-ed to ``x.txt``) has no ``-text`` of ours to override: not named. One
    ``git check-attr --stdin`` for both attributes, as ``filtered``."""
    return _ours_with(repo, "text", paths, lambda value: value != b"unset")


def encoding_set(repo: Repo, paths: Sequence[str]) -> list[str]:
    """Those of ``paths`` that git sends through ``filter=mlv`` and whose ``working-tree-encoding``
    is set by another line: git converts what the clean filter returns *from* that encoding
    (convert_to_git: the clean filter, then the encoding), so the committed blob of an ASCII
    pointer read as UTF-16 is neither a pointer nor the data: a push sends nothing for it and gc
    drops its data. One ``git check-attr --stdin`` for both attributes."""
    return _ours_with(repo, "working-tree-encoding", paths,
                      lambda value: value not in (b"unspecified", b"unset"))


def _ours_with(repo: Repo, attr: str, paths: Sequence[str], keep: Callable[[bytes], bool]) -> list[str]:
    """Those of ``paths`` with ``filter=mlv`` whose ``attr`` has a value ``keep`` accepts: one
    ``git check-attr --stdin`` for both attributes."""
    if not paths:
        return []
    ours: set[str] = set()
    kept: set[str] = set()
    for path, name, value in _check_attrs(repo, ("filter", attr), paths):
        if name == b"filter" and value == b"mlv":
            ours.add(path)
        elif name == attr.encode() and keep(value):
            kept.add(path)
    return sorted(ours & kept)


def may_set_text(repo: Repo) -> bool:
    """Whether an attributes file git reads for this repository may give a path a ``text``
    attribute other than the ``-text`` of our lines: one holds ``text`` not preceded by ``-``
    (``text``, ``text=auto``, ``!text``, a macro defined with it, or a pattern naming it), or
    cannot be read. Read: info/attributes, core.attributesFile (else git's default,
    $XDG_CONFIG_HOME/git/attributes), the system's /etc/gitattributes, and every .gitattributes
    of the index or the work tree, ignored ones included (git reads them). ~1.4 s at 1,000,000
    files (the work tree's folders are listed), against ~11 s for `git check-attr` of them all:
    callers ask this only before asking git about many paths."""
    files = [os.path.join(repo.common_dir, "info", "attributes")]
    extra = repo.config.get("core.attributesfile")
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    files.append(os.path.expanduser(extra) if extra else os.path.join(xdg, "git", "attributes"))
    if not os.environ.get("GIT_ATTR_NOSYSTEM"):
        files.append("/etc/gitattributes")
    listed = repo.git("ls-files", "-z", "--cached", "--others", "--", f":(glob)**/{FILENAME}",
                      check=False)
    here = [os.path.join(repo.top, os.fsdecode(p)) for p in listed.split(b"\0") if p]
    for file in files + here:
        try:
            with open(file, "rb") as f:
                if _TEXT_WORD.search(f.read()):
                    return True
        except FileNotFoundError:
            if file in here:  # deleted from the work tree: git reads the index's copy
                return True
        except OSError:
            return True
    return False


# ``text`` as a word other than our lines' ``-text`` (ATTRS)
_TEXT_WORD = re.compile(rb"(?<!-)text")


def mention(repo: Repo, word: bytes) -> bool:
    """Whether any attributes file git reads for this repository (info/attributes,
    core.attributesFile, every .gitattributes in the index or the work tree) holds ``word``: a
    cheap test before asking git about every file."""
    files = [os.path.join(repo.common_dir, "info", "attributes")]
    extra = repo.config.get("core.attributesfile")
    if extra:
        files.append(os.path.expanduser(extra))
    listed = repo.git("ls-files", "-z", "--cached", "--others", "--exclude-standard", "--",
                      f":(glob)**/{FILENAME}", check=False)
    files += [os.path.join(repo.top, os.fsdecode(p)) for p in listed.split(b"\0") if p]
    for file in files:
        try:
            with open(file, "rb") as f:
                if word in f.read():
                    return True
        except OSError:
            continue
    return False


_TEXT_ATTRS = ("text", "-text", "!text", "binary")


def text_source(worktree: str, common_dir: str, path: str) -> tuple[str, int, str] | None:
    """Where the ``text`` attribute of ``path`` (root-relative) comes from, as (file relative to
    the root, line number, line), when that line does not unset it: the last line touching
    ``text`` (``text``, ``text=...``, ``!text``, ``binary``) whose pattern applies, in git's order
    of precedence: ``info/attributes``, then the ``.gitattributes`` of the file's folder, of its
    parent... up to the root's. None when no such line says ``text`` (a macro, core.attributesFile)."""
    from .pathmatch import matches

    folders = path.split("/")[:-1]
    chain: list[tuple[str, str, str | None]] = [(os.path.join(common_dir, "info", "attributes"), "", None)]
    for depth in range(len(folders), -1, -1):
        folder = "/".join(folders[:depth])
        chain.append((os.path.join(worktree, folder, FILENAME), folder, f"{folder}/{FILENAME}".lstrip("/")))
    for file, folder, shown in chain:
        try:
            with open(file, "rb") as f:
                lines = _lines(f.read().decode("utf-8", "surrogateescape"))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for number in range(len(lines), 0, -1):
            parsed = parse(lines[number - 1])
            if parsed is None:
                continue
            touching = [a for a in parsed[1] if a in _TEXT_ATTRS or a.startswith("text=")]
            if touching and matches(from_folder(folder or ".", parsed[0]), path):
                if touching[-1] in ("-text", "binary"):
                    return None  # unset here: set by something this does not read
                name = shown or os.path.relpath(file, worktree).replace(os.sep, "/")
                return name, number, lines[number - 1]
    return None


def patterns(worktree: str) -> list[str]:
    """Patterns the root ``.gitattributes`` routes through git-mlv, in file order."""
    return patterns_in(_read(worktree))


def patterns_in(lines: Sequence[str]) -> list[str]:
    """Patterns the ``.gitattributes`` lines ``lines`` route through git-mlv, in order (a byte
    order mark before the first line skipped, as git does)."""
    lines = [lines[0].removeprefix(_BOM), *lines[1:]] if lines else []
    return [p for p in map(_ours, lines) if p is not None]


def track(worktree: str, pats: list[str]) -> list[str]:
    """Add a line for each pattern not yet tracked; returns the patterns added. Refuses
    (``UsageError``, nothing written) when a pattern cannot be written (``problem``)."""
    for p in pats:
        why = problem(p)
        if why:
            raise UsageError(f"cannot track {quoted(p)}: {why}")
    lines = _read(worktree)
    have = {field(p) for p in patterns_in(lines)}
    added = []
    for p in pats:
        if field(p) not in have:
            have.add(field(p))
            added.append(p)
    if added:
        _write(worktree, lines + [line(p) for p in added])
    return added


def _same(given: str) -> set[str]:
    """The fields of the patterns ``given`` may name: the pattern as typed, or a quoted field as
    a listing prints it (``display``)."""
    names = {field(given)}
    quoted = _c_unquote(given)
    if quoted is not None and quoted[1] == len(given):
        names.add(field(quoted[0]))
    return names


def untrack(worktree: str, pats: list[str]) -> list[str]:
    """Remove our lines for these patterns (as typed, or as ``display`` prints them); returns
    those of ``pats`` that had a line."""
    lines = _read(worktree)
    wanted = {p: _same(p) for p in pats}
    drop = set().union(*wanted.values()) if wanted else set()
    kept, gone = [], set()
    for text in lines:
        p = _ours(text)
        if p is not None and field(p) in drop:
            gone.add(field(p))
        else:
            kept.append(text)
    if gone:
        _write(worktree, kept)
    return [p for p, names in wanted.items() if names & gone]


def with_patterns(text: bytes, include: Sequence[str], exclude: Sequence[str] = ()) -> bytes:
    """``.gitattributes`` content plus a line for every pattern it does not route through git-mlv
    yet, and an ``!filter ...`` line for every excluded pattern (a pure function of ``text``: a
    history rewrite gives every commit the same lines)."""
    lines = _lines(text.decode("utf-8", "surrogateescape"))
    parsed = [x for x in map(parse, lines) if x is not None]
    have = {field(p) for p, attrs in parsed if "filter=mlv" in attrs}
    unset = {field(p) for p, attrs in parsed if attrs == UNSET.split()}
    add = [line(p) for p in dict.fromkeys(include) if field(p) not in have]
    add += [line(p, UNSET) for p in dict.fromkeys(exclude) if field(p) not in unset]
    if not add:
        return text
    bom = _BOM if text.startswith(_BOM.encode()) else ""
    return (bom + "\n".join(lines + add) + "\n").encode("utf-8", "surrogateescape")
