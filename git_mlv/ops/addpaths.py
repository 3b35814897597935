"""The paths `git mlv add` refuses before it writes anything: those git would not add.

Found trying the CLI with a data scientist's mistakes: `git mlv add ""` (a shell variable that came
out empty) tracked `**`, so every file of the repository, code included, became data; `git mlv add
.git/config` wrote a pattern for it and said "Added 1 path(s)"; an ignored file changed and staged
.gitattributes, then failed with git's last hint line ("git config advice.addIgnoredFile false").
"""

from __future__ import annotations

import os

from ..errors import UsageError
from ..gitio.git import run
from .context import Workspace


def refuse_unaddable(ws: Workspace, paths: list[str]) -> None:
    """A UsageError naming the first of ``paths`` (as typed, relative to the current folder) that
    is empty, inside the git folder, a symbolic link or beyond one, another repository or in one,
    or ignored by a .gitignore; nothing when git would add them all (a missing or outside path is
    ``setup.add``'s own error)."""
    top = ws.repo.top
    refuse_pathspec_magic(paths, "add", globs=False)
    rels: dict[str, str] = {}  # path relative to the top -> as typed
    for p in paths:
        full = os.path.abspath(p)  # never "" (refused above): abspath("") is the current folder
        rel = os.path.relpath(full, top).replace(os.sep, "/")
        if rel == ".git" or rel.startswith(".git/") or _inside(full, ws.repo.git_dir):
            raise UsageError(f"{p}: inside the repository's .git folder, which git never adds")
        if not rel.startswith(".."):
            _refuse_links(top, rel, p)
        if os.path.exists(full) and not rel.startswith(".."):
            rels.setdefault(rel, p)
    if not rels:
        return
    # pathnames, not pathspecs: check-ignore takes `a[1].dat` literally (and refuses the
    # --literal-pathspecs magic); tracked files are never reported as ignored
    out = run(["check-ignore", "-v", "-z", "--stdin"], cwd=top,
              input=b"".join(os.fsencode(r) + b"\0" for r in rels), check=False)
    fields = out.split(b"\0")
    if len(fields) >= 4:
        source, line, pattern, path = (os.fsdecode(f) for f in fields[:4])
        raise UsageError(f"{rels.get(path, path)}: ignored by {source}:{line} ({pattern}); "
                         "un-ignore it there, or `git mlv track` it and `git add -f` it")


_MAGIC = ("(", "!", "^", "/")  # after a leading ':': git's pathspec magic (long form, exclude, top)


def pathspec_magic(word: str, cwd: str | None = None) -> bool:
    """``word`` is written as git pathspec magic (``:(glob)*.csv``, ``:!x``, ``:^x``, ``:/x``) and
    names no file as it stands."""
    return (len(word) > 1 and word[0] == ":" and word[1] in _MAGIC
            and not os.path.lexists(os.path.join(cwd or os.getcwd(), word)))


def refuse_pathspec_magic(words: list[str], verb: str, cwd: str | None = None,
                          globs: bool = True) -> None:
    """A UsageError for the first of ``words`` that is git pathspec magic: the data verbs take
    paths and quoted globs, and took `:(glob)*.bin` or `:!a.bin` for a file name (`git mlv add`
    said "no such file or folder", `checkout ':!a.bin'` that no tracked file is under it). An
    empty word too, as git refuses it: status, ls-files, diff and checkout took it for everything
    (`git mlv checkout "$DIR"` with DIR unset wrote every file)."""
    for w in words:
        if not w:
            raise UsageError("an empty path names nothing (a shell variable that came out empty?); "
                             "name a file or folder (`.` for everything here)")
        if pathspec_magic(w, cwd):
            what = "exclusions" if w[1] in "!^" else "pathspec magic"
            takes = "paths and quoted globs ('data/*.csv')" if globs else "paths"
            raise UsageError(f"{w!r}: git mlv {verb} takes {takes}, not git's {what} (':(...)', "
                             "':!', ':^', ':/'): name what to include")


def _refuse_links(top: str, rel: str, typed: str) -> None:
    """A UsageError when ``rel`` (relative to ``top``) is a symbolic link or lies beyond one. git
    stores a link as a link, never the data it points to, so `git mlv add link.bin` printed
    "Tracking /link.bin" and "Added 1 path(s)" while nothing was data (a clone got a link to a
    file it does not have); `git mlv add linkdir/x.dat` wrote a .gitattributes line, then failed
    with git's "beyond a symbolic link"."""
    parts = [] if rel == "." else rel.split("/")
    for i in range(1, len(parts) + 1):
        link = os.path.join(top, *parts[:i])
        if not os.path.islink(link):
            _refuse_nested_repository(link, "/".join(parts[:i]), typed, i == len(parts))
            continue
        target = os.readlink(link)
        if i == len(parts):
            raise UsageError(f"{typed}: a symbolic link (to {target}); git stores the link, not the "
                             "data it points to: `git mlv add` that file or folder (inside the "
                             "repository), or `git add` the link itself")
        raise UsageError(f"{typed}: beyond the symbolic link {'/'.join(parts[:i])} (to {target}), "
                         "which git does not add files through: `git mlv add` the path it points to")


def _refuse_nested_repository(folder: str, rel: str, typed: str, named: bool) -> None:
    """A UsageError when ``folder`` (``rel`` from the top) is another git repository's work tree:
    `git mlv add inner` staged a submodule link (mode 160000) and said "Added 1 path(s)", no file
    of it data; `git mlv add inner/x.bin` wrote its .gitattributes line, and git added nothing."""
    if not (os.path.isdir(folder) and os.path.lexists(os.path.join(folder, ".git"))):
        return
    what = "is" if named else f"is inside {rel}, which is"
    raise UsageError(f"{typed}: {what} a git repository of its own, whose files git does not add "
                     f"here (it records a submodule link at most): `git mlv add` them in that "
                     f"repository, or remove {rel}/.git to make them this repository's files")


def _inside(path: str, folder: str) -> bool:
    """``path`` is ``folder`` or under it, as written (a symlink into it is git's to add)."""
    top = os.path.abspath(folder)
    return path == top or path.startswith(top.rstrip(os.sep) + os.sep)
