"""The git command that started us, read from /proc (Linux): git tells a filter or a merge driver
nothing of the command it serves.

- The merge driver reads `-X ours` / `-X theirs` there: git passes them to its own drivers only.
- The filter says what a file left as a pointer means for that command: in a checkout the file
  stays a pointer until `git mlv pull`; in `git archive` the archive holds the pointer text, which
  a pull does not change.
"""

from __future__ import annotations

import os

# options of git itself that take a value as the next word (git -C DIR archive ...)
_VALUED = {"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--exec-path", "--config-env"}


def caller_args(pid: int | None = None) -> list[str] | None:
    """The arguments of the git command that runs us (the nearest git ancestor process: a driver
    may run under `sh -c`), or None where /proc is not there.

    git gives an external driver no word of `-X ours` / `-X theirs`: before, `git merge -X theirs`
    (and rebase, cherry-pick, pull with it) left every data file both sides changed as a conflict
    holding ours, where git settles a binary file for the side asked for. And in a rebase, "ours"
    is the branch rebased onto, which "kept ours" did not tell."""
    pid = os.getppid() if pid is None else pid
    for _ in range(4):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = [a.decode("utf-8", "surrogateescape") for a in f.read().split(b"\0")[:-1]]
            with open(f"/proc/{pid}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            return None
        name = os.path.basename(argv[0]) if argv else ""
        if name == "git" or (name.startswith("git-") and name != "git-mlv"):
            return argv[1:]
        try:
            pid = int(stat[stat.rindex(b")") + 2:].split()[1])  # field 4, after "(comm) state"
        except (ValueError, IndexError):
            return None
        if pid <= 1:
            return None
    return None


def verb(args: list[str] | None) -> str | None:
    """The git command's name in ``args`` (``caller_args()``): the first word that is not an option
    of git itself (``-C DIR``, ``-c KEY=VALUE``...); for ``git-NAME`` run as a program, ``args``
    holds what follows it and the name is not there (None then, as for no args)."""
    words = iter(args or [])
    for w in words:
        if w in _VALUED:
            next(words, None)
        elif not w.startswith("-"):
            return w
    return None
