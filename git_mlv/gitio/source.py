"""Reading one revision of another repository without cloning it (``get``/``import``/``update``).

A scratch bare repository receives ``git fetch --depth=1 --filter=blob:none URL REV``: one commit
and its trees. The blobs of the wanted path are then fetched by id in one more ``git fetch`` (a
protocol v2 server serves any reachable object; see docs/imports.md). A server that ignores the
filter sends every blob of that commit at once: the second fetch then asks only for what is
still missing, usually nothing.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass

from ..errors import MlvError
from .git import GitError, Repo, run

_HEX40 = re.compile(r"[0-9a-f]{40}\Z")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_SCP_LIKE = re.compile(r"[^/:]+:")
# git prints these when the source itself was reached but the revision was not
_NO_REV = ("couldn't find remote ref", "not our ref", "no such remote ref", "unadvertised object")


class SourceError(MlvError):
    """The source repository, its revision or a path in it cannot be read."""

    exit_code = 2


class SourceUnreachable(SourceError):
    """The source did not answer or did not send what was asked: a remote error (README's exit
    5), where a revision or path that is not there is the caller's mistake (2)."""

    exit_code = 5


@dataclass(frozen=True)
class TreeEntry:
    """One entry of ``git ls-tree -r`` under the wanted path."""

    path: str  # relative to the source's root
    mode: str  # "100644", "100755", "120000" (symlink) or "160000" (submodule)
    kind: str  # "blob" or "commit"
    oid: str  # git object id


def git_url(url: str, base: str) -> str:
    """``url`` as git should fetch it: a local path becomes ``file://`` (else git copies the
    repository its own way and ignores ``--filter``); a relative path is relative to ``base``."""
    if _SCHEME.match(url):
        return url
    if not url.startswith(("/", ".", "~")) and _SCP_LIKE.match(url):
        return url  # host:path, as git and scp read it
    path = os.path.abspath(os.path.join(base, os.path.expanduser(url)))
    return "file://" + path


def local_path(url: str) -> str | None:
    """The folder a ``file://`` URL names, else None (a source on a server)."""
    return url[len("file://"):] if url.startswith("file://") else None


def _git(args: list[str], cwd: str | None = None, input: bytes | None = None,
         timeout: float | None = None) -> bytes:
    """``git ARGS``; a GitError carrying git's first ``fatal:`` line (its last line is often
    advice such as "and the repository exists."). git never asks on the terminal (a prompt
    inside `git mlv status` would hang it): credentials come from helpers and agents."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True, env=env,
                              timeout=timeout)
    except FileNotFoundError:
        raise MlvError("git is not installed or not on PATH") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"no answer within {timeout:.0f} s") from None
    if proc.returncode != 0:
        lines = proc.stderr.decode(errors="replace").strip().splitlines() or ["failed"]
        fatal = [ln for ln in lines if ln.startswith(("fatal:", "error:"))]
        msg = (fatal or lines)[0].split(": ", 1)[-1] if (fatal or lines)[0].startswith(
            ("fatal:", "error:")) else (fatal or lines)[0]
        raise GitError(msg)
    return proc.stdout


def _git_message(e: GitError) -> str:
    return str(e)


class SourceRepo:
    """A scratch bare repository holding one fetched revision of ``url``."""

    def __init__(self, scratch: str, url: str, shown: str | None = None) -> None:
        self.url = url
        self.shown = shown or url  # the URL as the user wrote it, for messages
        self.repo = Repo(None, scratch, scratch)
        run(["init", "-q", "--bare", scratch])
        self.repo.git("remote", "add", "origin", url)
        self._want = self._commit = ""

    def fetch(self, rev: str) -> str:
        """Fetch ``rev`` (a branch, tag or full commit id; empty: the source's HEAD); its commit."""
        want = rev or "HEAD"
        try:
            _git(["fetch", "-q", "--no-tags", "--depth=1", "--filter=blob:none", "origin", want],
                 cwd=self.repo.git_dir)
        except GitError as e:
            msg = _git_message(e)
            if any(s in msg for s in _NO_REV):
                hint = " (give a branch, a tag or a full 40-digit commit id)" if rev and not \
                    _HEX40.match(rev) and re.fullmatch(r"[0-9a-f]{4,39}", rev) else ""
                raise SourceError(f"revision {want!r} not found in {self.shown}{hint}") from None
            raise SourceUnreachable(f"cannot fetch from {self.shown}: {msg}") from None
        commit = self.repo.git_text("rev-parse", "--verify", "-q", "FETCH_HEAD^{commit}", check=False)
        if not commit:
            raise SourceError(f"{want!r} in {self.shown} does not name a commit")
        self._want, self._commit = want, commit
        return commit

    def _refetch(self, filter_arg: str | None) -> None:
        """Fetch the same revision again by its name, with more of its blobs (``--refetch``)."""
        args = ["fetch", "-q", "--no-tags", "--refetch", "--depth=1"]
        args += [filter_arg] if filter_arg else []
        try:
            _git([*args, "origin", self._want], cwd=self.repo.git_dir)
        except GitError as e:
            raise SourceUnreachable(f"cannot fetch from {self.shown}: {_git_message(e)}") from None
        now = self.repo.git_text("rev-parse", "--verify", "-q", "FETCH_HEAD^{commit}", check=False)
        if now != self._commit:
            raise SourceUnreachable(f"{self._want!r} of {self.shown} moved while it was read; run again")

    def entries(self, commit: str, path: str) -> tuple[str, list[TreeEntry]]:
        """("file" or "dir", the entries at or below ``path``); SourceError when it is absent."""
        args = ["ls-tree", "-z", commit, "--", path] if path else ["ls-tree", "-z", commit]
        top = self.repo.git(*args) if path else b"x"
        if not top:
            raise SourceError(f"{path!r} is not in {self.shown} at {commit[:12]}")
        kind = "dir"
        if path:
            meta = top.split(b"\t", 1)[0].split()
            kind = "dir" if meta[1] == b"tree" else "file"
        spec = [commit, "--", path] if path else [commit]
        out = []
        for rec in self.repo.git_records("ls-tree", "-r", "-z", *spec):
            meta_b, _, p = rec.partition(b"\t")
            mode, typ, oid = meta_b.decode().split()
            out.append(TreeEntry(os.fsdecode(p), mode, typ, oid))
        return kind, out

    def missing(self, oids: list[str]) -> list[str]:
        """Which of these objects are not in the scratch repository (never fetched lazily)."""
        if not oids:
            return []
        # --batch-all-objects lists what is here without asking the promisor for anything; a
        # depth-1 fetch holds one commit's objects, so this costs what the revision costs
        here = set(self.repo.git("cat-file", "--batch-all-objects", "--batch-check=%(objectname)")
                   .decode().split())
        return [o for o in oids if o not in here]

    def fetch_blobs(self, oids: list[str]) -> None:
        """Fetch these blobs (by id) from the source, in one request."""
        todo = self.missing(list(dict.fromkeys(oids)))
        if not todo:
            return
        try:
            _git(["-c", "fetch.negotiationAlgorithm=noop", "fetch", "-q", "--no-tags",
                 "--no-write-fetch-head", "--recurse-submodules=no", "--filter=blob:none",
                 "--stdin", "origin"], cwd=self.repo.git_dir, input="\n".join(todo).encode() + b"\n")
            return
        except GitError as e:
            if not any(s in str(e) for s in _NO_REV):
                raise SourceUnreachable(f"cannot fetch file contents from {self.shown}: "
                                  f"{_git_message(e)}") from None
        # Protocol v0 (git over ssh unless sshd accepts GIT_PROTOCOL) serves objects by id only
        # with uploadpack.allowAnySHA1InWant: fetch the revision again by name, first with every
        # blob under 1 KiB (all pointers), then whole if plain files under PATH are bigger.
        for filter_arg in ("--filter=blob:limit=1023", None):
            self._refetch(filter_arg)
            todo = self.missing(todo)
            if not todo:
                return
        raise SourceUnreachable(f"{self.shown} did not send {len(todo)} object(s) of {self._want!r}")

    def blob_id(self, commit: str, name: str) -> str | None:
        """The object id of file ``name`` at the root of ``commit`` (its content may be absent)."""
        return self.repo.git_text("rev-parse", "--verify", "-q", f"{commit}:{name}", check=False) or None

    def config_at(self, commit: str, name: str) -> dict[str, str]:
        """A git-config file of the commit (``.gitmlv``) as ``git config -l`` keys; {} if absent."""
        blob = self.blob_id(commit, name)
        if not blob:
            return {}
        self.fetch_blobs([blob])
        from .git import parse_config_z

        try:
            return parse_config_z(self.repo.git("config", f"--blob={blob}", "-l", "-z"))
        except GitError as e:
            raise SourceError(f"{name} of {self.shown} at {commit[:12]} is malformed: "
                              f"{_git_message(e)}") from None


#: ``status`` asks every import's source; a host that does not answer must not hold it longer
LS_REMOTE_TIMEOUT = 30.0


def ls_remote(url: str, rev: str) -> str | None:
    """The commit ``rev`` (empty: HEAD) names in ``url`` now; None when it names nothing.

    GitError when the source cannot be reached (or does not answer within LS_REMOTE_TIMEOUT).
    An annotated tag is peeled to its commit.
    """
    want = rev or "HEAD"
    raw = _git(["ls-remote", url, want, f"{want}^{{}}"], timeout=LS_REMOTE_TIMEOUT
               ).decode("utf-8", errors="replace")
    found: dict[str, str] = {}
    for line in raw.splitlines():
        oid, _, ref = line.partition("\t")
        found[ref] = oid
    for ref in (f"refs/heads/{want}", f"refs/tags/{want}^{{}}", f"refs/tags/{want}", want,
                f"{want}^{{}}"):
        if ref in found:
            return found[ref]
    tails = [r for r in found if r.endswith("/" + want)]
    return found[tails[0]] if tails else None
