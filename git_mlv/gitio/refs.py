"""Refs for a history rewrite: listing them, rewriting annotated tags, one atomic update at the end."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .git import GitError, Repo, run

_SIGNATURE = re.compile(rb"(?:\A|(?<=\n))-----BEGIN (PGP|SSH) SIGNATURE-----\n.*\Z", re.DOTALL)


@dataclass(frozen=True)
class Ref:
    """A ref, the object it names, that object's type, and the commit it peels to (tags)."""

    name: str
    oid: str
    kind: str  # "commit", "tag", ...
    peeled: str  # the commit an annotated tag points to (== oid for a commit)


def list_refs(repo: Repo, patterns: list[str]) -> list[Ref]:
    """Refs matching ``for-each-ref`` patterns (``refs/heads/``, ``refs/tags/``, exact names)."""
    fmt = "%(refname)%00%(objectname)%00%(objecttype)%00%(*objectname)"
    out = repo.git("for-each-ref", f"--format={fmt}", *patterns)
    refs = []
    for line in out.decode("utf-8", "surrogateescape").splitlines():
        name, oid, kind, peeled = line.split("\0")
        refs.append(Ref(name, oid, kind, peeled or oid))
    return refs


def current_branch(repo: Repo) -> str | None:
    """The full name of the checked-out branch, None on a detached HEAD."""
    out = repo.git("symbolic-ref", "-q", "HEAD", check=False).decode().strip()
    return out or None


def resolve(repo: Repo, name: str) -> str | None:
    """The full ref name of a branch, tag or ref the user typed, or None."""
    out = repo.git("rev-parse", "--symbolic-full-name", "--verify", "-q", name, check=False)
    full = out.decode("utf-8", "surrogateescape").strip()
    return full if full.startswith("refs/") else None


def rewrite_tag(repo: Repo, tag_oid: str, new_target: str) -> str:
    """Write a copy of annotated tag ``tag_oid`` pointing at ``new_target``; its signature (which
    would no longer verify) is dropped. Returns the new tag object's id.

    Two git processes (``cat-file tag``, ``hash-object -t tag -w``): pygit2's import alone costs
    more (docs/design-notes.md, "Reading git"), and git-mlv does not depend on it.
    """
    raw = repo.git("cat-file", "tag", tag_oid)
    head, sep, body = raw.partition(b"\n\n")
    lines = head.split(b"\n")
    if not lines[0].startswith(b"object "):
        raise GitError(f"tag {tag_oid} is not a tag object git-mlv can read")
    lines[0] = b"object " + new_target.encode()
    lines = [line for line in lines if not line.startswith(b"gpgsig")]
    body = _SIGNATURE.sub(b"", body) if sep else body
    out = run(["hash-object", "-t", "tag", "-w", "--stdin"], cwd=repo.worktree or repo.git_dir,
              input=b"\n".join(lines) + sep + body)
    return out.decode().strip()


def object_type(repo: Repo, oid: str) -> str:
    """``commit``, ``tag``, ``tree`` or ``blob``."""
    return repo.git_text("cat-file", "-t", oid)


def update_atomically(repo: Repo, commands: list[str]) -> None:
    """Apply ``update-ref --stdin`` commands in one transaction: all of them or none."""
    if not commands:
        return
    script = "start\n" + "".join(c + "\n" for c in commands) + "prepare\ncommit\n"
    run(["update-ref", "--stdin"], cwd=repo.worktree or repo.git_dir,
        input=script.encode("utf-8", "surrogateescape"))
