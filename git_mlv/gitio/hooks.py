"""Installing the hook shims of ``hooks/`` without clobbering a user's own hooks."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..core.fsutil import atomic_write

HOOKS = ("pre-push", "post-checkout", "post-merge")
MARKER = "# git-mlv hook shim"
VERSION_LINE = "# git-mlv hook shim v1: all logic lives in `git mlv hook`."


def shim(name: str) -> str:
    """The text of our shim for hook ``name`` (the files in the repo's hooks/ are these, verbatim)."""
    return (
        "#!/bin/sh\n"
        f"{VERSION_LINE}\n"
        f'command -v git-mlv >/dev/null 2>&1 || {{ echo >&2 "git-mlv is not on PATH: install it, '
        f'or remove .git/hooks/{name}"; exit 2; }}\n'
        f'exec git mlv hook {name} "$@"\n'
    )


@dataclass
class HookReport:
    """What ``install_hooks`` did, per hook name."""

    installed: list[str] = field(default_factory=list)
    upgraded: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # a user's hook already calling us
    skipped: list[str] = field(default_factory=list)  # a user's hook we left alone
    backed_up: list[str] = field(default_factory=list)


def install_hooks(hooks_dir: str, force: bool = False) -> HookReport:
    """Write our shims into ``hooks_dir``; a user's hook is left alone unless ``force`` (then backed up)."""
    report = HookReport()
    os.makedirs(hooks_dir, exist_ok=True)
    for name in HOOKS:
        path = os.path.join(hooks_dir, name)
        want = shim(name)
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                have = f.read()
        except FileNotFoundError:
            have = None
        if have == want:
            continue
        if have is None:
            report.installed.append(name)
        elif MARKER in have:
            report.upgraded.append(name)  # an older shim of ours
        elif f"git mlv hook {name}" in have or f"git-mlv hook {name}" in have:
            report.kept.append(name)
            continue
        elif not force:
            report.skipped.append(name)
            continue
        else:
            os.replace(path, path + ".mlv-backup")
            report.backed_up.append(name)
        atomic_write(path, want.encode())
        os.chmod(path, 0o755)
    return report


def uninstall_hooks(hooks_dir: str) -> list[str]:
    """Remove our shims (only ours); returns the names removed."""
    removed = []
    for name in HOOKS:
        path = os.path.join(hooks_dir, name)
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                if MARKER not in f.read():
                    continue
        except FileNotFoundError:
            continue
        os.unlink(path)
        if os.path.exists(path + ".mlv-backup"):
            os.replace(path + ".mlv-backup", path)
        removed.append(name)
    return removed


def hooks_missing(hooks_dir: str) -> bool:
    """True when any of our hooks is absent (cheap: a stat each)."""
    return any(not os.path.exists(os.path.join(hooks_dir, n)) for n in HOOKS)
