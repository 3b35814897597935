"""The text of our hook shims, and the filter's cheap check that they are what git runs.

Light on purpose (``os`` only): the filter checks our hooks at every start and at its end, and
importing the installer (``gitio/hooks.py``: dataclasses, the hook-file scanner's regular
expressions) for hooks that are already ours cost ~10 ms of a one-file checkout's filter
(bench/RESULTS.md, one5). Anything but our exact shims goes to ``ops/setup.ensure_hooks``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from .quickgit import CHAINED

HOOKS = ("pre-push", "post-checkout", "post-merge")
VERSION_LINE = "# git-mlv hook shim v5: git-mlv's work lives in `git mlv hook`."
# Where `git mlv install` found git-mlv (its full path): a hook whose PATH lacks git-mlv (another
# virtualenv or conda env active, an IDE's git) looks there (shim v4). git's filter and drivers
# name that path themselves (ops/setup.filter_config).
EXECUTABLE_KEY = "filter.mlv.executable"

# post-checkout and post-merge: when git-mlv has nothing to do, the shim says so without starting
# Python, which cost ~0.1 s of a 0.46 s one-file checkout at 50,000 files (bench/RESULTS.md). The
# common case is a checkout whose filter gave git the data of every file it smudged: that filter
# (one per git process) keeps the *smudge record* (ops/hookquick.py, docs/formats.md#smudge-record),
# naming the git process, which is the hook's parent. Anything else runs `git mlv hook` as before.
_SMUDGED = """\
smudged() {  # this git's filter gave git the data of every file (docs/formats.md#smudge-record)
\t[ -r .git/mlv-smudged ] && [ -r /proc/$PPID/stat ] && read -r rec < .git/mlv-smudged &&
\t\tread -r stat < /proc/$PPID/stat || return 1
\tset -- ${stat##*") "}
\t[ "$rec" = "$PPID ${20} ok" ]
}
"""
# A move that changes .gitmlv may bring a data remote, and with it the data of files left as
# pointers before (unchanged, so the filter never saw them): `git mlv hook` decides (shim v3).
# Asked after the record (a read), so that git is started only when the shortcut may apply.
_NOTHING_TO_DO = {
    # not a clone's first checkout; a file checkout or one that did not move HEAD is the filter's
    "post-checkout": ('\tcase $1 in *[!0]*) ;; *) return 1 ;; esac\n'
                      '\t[ "$3" = 1 ] && [ "$1" != "$2" ] || return 0\n'
                      '\tsmudged && git diff --quiet "$1" "$2" -- .gitmlv 2>/dev/null\n'),
    # not a squash merge: HEAD moved
    "post-merge": '\t[ "$1" = 0 ] && smudged && git diff --quiet ORIG_HEAD HEAD -- .gitmlv 2>/dev/null\n',
}


def shim(name: str) -> str:
    """The text of our shim for hook ``name`` (the files in the repo's hooks/ are these, verbatim).
    v5 names the hook file as git ran it (``$0``): core.hooksPath's folder when that is set, where
    v4 always said .git/hooks."""
    return _shim(name, VERSION_LINE, _find("$0"))


def _find(hook_file: str) -> str:
    """The lines that find git-mlv (v4 on): on PATH, else where `git mlv install` found it."""
    return (f"command -v git-mlv >/dev/null 2>&1 || {{ exe=$(git config --get {EXECUTABLE_KEY}) && "
            'PATH="$PATH:${exe%/*}"; }\n'
            f'command -v git-mlv >/dev/null 2>&1 || {{ echo >&2 "git-mlv is not on PATH: activate the '
            f'environment it is installed in and run \\`git mlv install\\` there, or remove {hook_file}"; '
            f"exit 2; }}\n")


def previous_shims(name: str) -> tuple[str, ...]:
    """Our exact shims of earlier versions that differ from today's only in how git-mlv is found
    (v3: PATH alone) or in what that message names (v4: .git/hooks/NAME whatever core.hooksPath
    says): `git mlv install` and the filter's hook check replace them."""
    return (_shim(name, "# git-mlv hook shim v4: git-mlv's work lives in `git mlv hook`.",
                  _find(f".git/hooks/{name}")),
            _shim(name, "# git-mlv hook shim v3: git-mlv's work lives in `git mlv hook`.", (
        f'command -v git-mlv >/dev/null 2>&1 || {{ echo >&2 "git-mlv is not on PATH: install it, '
        f'or remove .git/hooks/{name}"; exit 2; }}\n')),)


def _shim(name: str, version_line: str, find: str) -> str:
    text = f"#!/bin/sh\n{version_line}\n{find}"
    if name in _NOTHING_TO_DO:
        text += (f"{_SMUDGED}"
                 "nothing_to_do() {  # without a trace to write, a chained copy of us, the hook's folder\n"
                 '\t[ -z "$MLV_HOOK_TRACE$MLV_HOOK_CHAINED" ] || return 1\n'
                 "\tcase $0 in */*) ;; *) return 1 ;; esac\n"
                 f"{_NOTHING_TO_DO[name]}"
                 "}\n"
                 "if nothing_to_do \"$@\"; then  # then only the hook chained after ours runs\n"
                 f'\tchained="${{0%/*}}/{name}{CHAINED}"\n'
                 '\t[ -x "$chained" ] && MLV_HOOK_CHAINED=1 exec "$chained" "$@"\n'
                 "\texit 0\n"
                 "fi\n")
    return text + f'exec git-mlv hook {name} "$@"\n'


def lfs_in_use(config: Mapping[str, str], common_dir: str) -> bool:
    """git-lfs is configured and has run in this repository (its ``lfs`` folder exists)."""
    configured = any(k in config for k in ("filter.lfs.process", "filter.lfs.clean"))
    return configured and os.path.isdir(os.path.join(common_dir, "lfs"))


def hooks_current(config: Mapping[str, str], common_dir: str) -> bool:
    """True when the filter's hook check (``ops.setup.ensure_hooks``) would neither write nor warn:
    each of our hooks is exactly our shim in the repository's own hooks folder, no
    ``core.hooksPath`` is set, and git-lfs (whose hooks that check would chain) is not in use."""
    if "core.hookspath" in config or lfs_in_use(config, common_dir):
        return False
    folder = os.path.join(common_dir, "hooks")
    for name in HOOKS:
        try:
            with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as f:
                if f.read() != shim(name):
                    return False
        except OSError:
            return False
    return True
