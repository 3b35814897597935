"""Installing our hook shims (``hooks/``) beside other tools' hooks, so that every one of them runs.

git runs one file per hook name. When another hook is already there we *compose*: the other hook
moves to ``NAME.mlv-chained`` and our shim takes its place; ``git mlv hook NAME`` reads git's stdin
once and hands the same bytes and arguments to the chained hook after its own work
(ops/hooks.py). With pre-commit it is the other way round, pre-commit's own way: its hook runs
``NAME.legacy`` first with the same stdin, so our shim goes there. A husky setup keeps its hooks in
tracked files under ``.husky/``: we do not edit those and say which lines to add instead.

git-lfs's installer refuses to touch a hook it did not write and then installs none of its hooks;
so where git-lfs is in use and nothing runs its hook, ours chains git-lfs's own hook text.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from ..core.fsutil import atomic_write
from .hookscan import MARKER, classify, fix_lines, lfs_command, only_lfs_and_ours
from .quickgit import CHAINED
from .shimtext import HOOKS, lfs_in_use, shim  # noqa: F401 - the shims' text lives in shimtext

#: every hook git-lfs installs (it installs them all or, at the first conflict, none)
LFS_HOOKS = ("pre-push", "post-checkout", "post-commit", "post-merge")
LfsTexts = Callable[[], dict[str, str]]


def lfs_fallback(name: str) -> str:
    """git-lfs 3's hook text, for when ``git lfs update --manual`` cannot tell us its own."""
    return (
        "#!/bin/sh\n"
        "command -v git-lfs >/dev/null 2>&1 || { echo >&2 \"\\nThis repository is configured for Git "
        "LFS but 'git-lfs' was not found on your path. If you no longer wish to use Git LFS, remove "
        f"this hook by deleting '.git/hooks/{name}'.\\n\"; exit 2; }}\n"
        f"{lfs_command(name)}\n"
    )


def chained_path(hooks_dir: str, name: str) -> str:
    """Where the hook we compose with lives: ``NAME.mlv-chained``."""
    return os.path.join(hooks_dir, name + CHAINED)


@dataclass
class HookReport:
    """What ``install_hooks`` did, per hook name."""

    installed: list[str] = field(default_factory=list)
    upgraded: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # already runs ours
    chained: list[tuple[str, str]] = field(default_factory=list)  # (name, what now runs after ours)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (name, why + the exact fix)
    backed_up: list[str] = field(default_factory=list)


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except (FileNotFoundError, IsADirectoryError):
        return None


def _write(path: str, text: str) -> None:
    atomic_write(path, text.encode())
    os.chmod(path, 0o755)


def is_husky(hooks_dir: str) -> bool:
    """True when ``hooks_dir`` is husky's (``core.hooksPath`` = ``.husky/_`` or ``.husky``)."""
    parts = os.path.normpath(hooks_dir).split(os.sep)
    return parts[-1] == ".husky" or parts[-2:] == [".husky", "_"]


def husky_script(hooks_dir: str, name: str) -> str:
    """The tracked script husky runs for hook ``name``: ``.husky/NAME``."""
    d = os.path.normpath(hooks_dir)
    root = os.path.dirname(d) if os.path.basename(d) == "_" else d
    return os.path.join(root, name)


def install_hooks(hooks_dir: str, force: bool = False, compose_foreign: bool = True,
                  lfs_texts: LfsTexts | None = None) -> HookReport:
    """Make each of our hooks run in ``hooks_dir``, composing with the hooks already there.

    ``force`` replaces a foreign hook instead of chaining it (kept as ``NAME.mlv-backup``).
    ``compose_foreign`` False (the filter's quiet check) moves only hooks of tools we recognise
    (git-lfs) and reports the others. ``lfs_texts`` gives git-lfs's hook texts when git-lfs is in
    use here: then its hooks are chained where nothing runs them.
    """
    report = HookReport()
    if is_husky(hooks_dir):
        for name in HOOKS:
            problem = check(hooks_dir, name)
            (report.refused.append((name, problem)) if problem else report.kept.append(name))
        return report
    os.makedirs(hooks_dir, exist_ok=True)
    lfs: dict[str, str] | None = None

    def lfs_text(name: str) -> str | None:
        nonlocal lfs
        if lfs_texts is None:
            return None
        if lfs is None:
            lfs = lfs_texts()
        return lfs.get(name)

    for name in HOOKS:
        if _install_one(hooks_dir, name, force, compose_foreign, report, lfs_text):
            chained = chained_path(hooks_dir, name)
            text = lfs_text(name) if not os.path.exists(chained) else None
            if text is not None:
                _write(chained, text)
                report.chained.append((name, "git-lfs's hook"))
    # git-lfs's installer gave up at our pre-push before writing post-commit: write it as it would
    post_commit = os.path.join(hooks_dir, "post-commit")
    if not os.path.exists(post_commit):
        text = lfs_text("post-commit")
        if text is not None:
            _write(post_commit, text)
            report.chained.append(("post-commit", "git-lfs's hook (installed for it)"))
    return report


def _install_one(hooks_dir: str, name: str, force: bool, compose_foreign: bool, report: HookReport,
                 lfs_text: Callable[[str], str | None]) -> bool:
    """Install or compose hook ``name``; True when our shim is now the file git runs."""
    path = os.path.join(hooks_dir, name)
    want = shim(name)
    have = _read(path)
    if have is None:
        _write(path, want)
        report.installed.append(name)
        return True
    h = classify(have, name, want)
    if h.kind == "ours":
        return True
    if h.kind == "ours-old":
        _write(path, want)
        report.upgraded.append(name)
        return True
    if h.kind == "pre-commit":
        _compose_pre_commit(path, name, want, report)
        return False
    recompose = h.calls_ours and only_lfs_and_ours(h.commands, name)
    if h.kind == "lfs" or recompose:
        other = (lfs_text(name) or lfs_fallback(name)) if recompose else have
        return _chain(path, name, want, other, "git-lfs's hook", report)
    if h.calls_ours:
        if h.stdin_safe:
            report.kept.append(name)
        else:
            report.refused.append((name, _unsafe_message(path, name)))
        return False
    if force:
        os.replace(path, path + ".mlv-backup")
        _write(path, want)
        report.backed_up.append(name)
        return True
    if not compose_foreign:
        report.refused.append((name, f"{path} is another hook, so git-mlv's does not run; "
                                     "run `git mlv install --local` to chain it after git-mlv's"))
        return False
    return _chain(path, name, want, have, "your hook", report)


def _chain(path: str, name: str, want: str, other: str, what: str, report: HookReport) -> bool:
    """Move ``other`` (the hook at ``path``) to NAME.mlv-chained and put our shim at ``path``."""
    chained = path + CHAINED
    old = _read(chained)
    if old is not None and old != other and not (
            classify(old, name, want).kind == "lfs" and classify(other, name, want).kind == "lfs"):
        report.refused.append((name, f"{path} and {chained} are two other hooks; merge them into "
                                     f"{chained} and rerun `git mlv install --local`"))
        return False
    if _read(path) == other:
        os.replace(path, chained)  # keeps its mode: git ran it only if it was executable
    else:
        _write(chained, other)
    _write(path, want)
    report.chained.append((name, f"{what} (now {os.path.basename(chained)}, run after git-mlv's "
                                 "with the same arguments and stdin)"))
    return True


def _compose_pre_commit(path: str, name: str, want: str, report: HookReport) -> None:
    """pre-commit's hook runs NAME.legacy first with the same stdin: our shim goes there."""
    legacy = path + ".legacy"
    have = _read(legacy)
    if have is None:
        _write(legacy, want)
        report.chained.append((name, f"pre-commit's hook runs git-mlv's as {os.path.basename(legacy)}"))
        return
    h = classify(have, name, want)
    if h.kind == "ours":
        report.kept.append(name)
    elif h.kind == "ours-old":
        _write(legacy, want)
        report.upgraded.append(name)
    elif h.calls_ours and h.stdin_safe:
        report.kept.append(name)
    else:
        report.refused.append((name, f"pre-commit's {name} hook runs {legacy}, another hook; add these "
                                     f"lines at the top of {legacy}:\n{fix_lines(name)}"))


def _unsafe_message(path: str, name: str) -> str:
    return (f"{path} runs `git mlv hook {name}` after a command that may read git's stdin first, so "
            f"git-mlv would see no pushed refs and upload nothing; replace its git-mlv line by these "
            f"lines, at the top:\n{fix_lines(name)}")


def check(hooks_dir: str, name: str) -> str | None:
    """Why git-mlv's hook ``name`` would not run (correctly) from ``hooks_dir``; None when it does."""
    want = shim(name)
    if is_husky(hooks_dir):
        script = husky_script(hooks_dir, name)
        text = _read(script)
        h = classify(text, name, want) if text is not None else None
        if h is not None and h.calls_ours and h.stdin_safe:
            return None
        return (f"husky runs {script} for {name}; git-mlv does not edit husky's tracked files: add "
                f"these lines to it (create it if needed), before any other command:\n{fix_lines(name)}")
    path = os.path.join(hooks_dir, name)
    have = _read(path)
    if have is None:
        return f"there is no {name} hook in {hooks_dir}; run `git mlv install --local`"
    h = classify(have, name, want)
    if h.kind in ("ours", "ours-old"):
        return None
    if h.kind == "pre-commit":
        legacy = _read(path + ".legacy")
        lh = classify(legacy, name, want) if legacy is not None else None
        if (lh is not None and lh.calls_ours and lh.stdin_safe) or h.calls_ours:
            return None
        return f"pre-commit's {name} hook does not run git-mlv's; run `git mlv install --local`"
    if h.calls_ours:
        return None if h.stdin_safe else _unsafe_message(path, name)
    return f"{path} is another tool's hook and does not run git-mlv's; run `git mlv install --local`"


def uninstall_hooks(hooks_dir: str) -> list[str]:
    """Remove our shims (only ours), putting back what we chained or backed up; the names removed."""
    removed = []
    for name in HOOKS:
        path = os.path.join(hooks_dir, name)
        have = _read(path)
        legacy = _read(path + ".legacy")
        if have is not None and MARKER in have:
            os.unlink(path)
            for saved in (path + CHAINED, path + ".mlv-backup"):
                if os.path.exists(saved):
                    os.replace(saved, path)
                    break
            removed.append(name)
        elif legacy is not None and MARKER in legacy:  # pre-commit ran ours as NAME.legacy
            os.unlink(path + ".legacy")
            removed.append(name)
    return removed


def active(hooks_dir: str) -> bool:
    """True when every one of our hooks runs (cheap: reads a few small files)."""
    return all(check(hooks_dir, n) is None for n in HOOKS)


def lfs_hook_texts(cwd: str) -> dict[str, str]:
    """The hook texts this machine's git-lfs writes, from ``git lfs update --manual``."""
    from .git import GitError, run

    try:
        out = run(["lfs", "update", "--manual"], cwd=cwd).decode("utf-8", errors="replace")
    except GitError:
        out = ""
    texts: dict[str, str] = {}
    name = None
    lines: list[str] = []
    for line in out.splitlines() + ["Add the following to ''"]:
        if line.startswith("Add the following to '"):
            if name and lines:
                texts[name] = "".join(f"{x}\n" for x in lines)
            name = os.path.basename(line.split("'")[1]) or None
            lines = []
        elif line.startswith("\t") and name:
            lines.append(line[1:])
    for n in LFS_HOOKS:
        if classify(texts.get(n, ""), n, shim(n)).kind != "lfs":
            texts[n] = lfs_fallback(n)
    return texts
