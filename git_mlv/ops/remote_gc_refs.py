"""``gc --remote`` refuses to run from a clone that has not fetched the branches and tags of its
git remotes.

Its roots are this clone's refs (docs/remotes.md, "Collecting a remote"): the data of a branch a
teammate pushed, which this clone had not fetched, looked dead and, once older than the grace
period, was deleted from the data remote (found running gc --remote from a clone made before the
teammate's push): a clone of that branch then got pointers, and the teammate's own pushes, which
trust what they verified there before, did not send it again. The docs said "`git fetch --all`
first"; gc now checks it, with one `git ls-remote` per git remote, before anything is decided.
"""

from __future__ import annotations

from ..errors import UsageError
from ..gitio.git import GitError
from ..gitio.walk import existing_commits, repo_run
from .context import Workspace


def refuse_if_not_fetched(ws: Workspace) -> None:
    """A UsageError naming a branch or tag of a git remote whose commit no ref here reaches, or a
    git remote that cannot be listed; nothing when every one is reached."""
    repo = ws.repo
    for name in repo.git_text("remote").split():
        try:
            listed = repo.git("ls-remote", "--heads", "--tags", "--", name)
        except GitError as e:
            raise UsageError(f"gc --remote keeps what the branches of every git remote reach, and "
                             f"could not list those of '{name}' ({e}); reach it, or remove it "
                             f"(`git remote remove {name}`) if it is gone for good") from None
        tips = _tips(listed.decode("utf-8", "surrogateescape"))
        missing = _unreached(ws, list(tips)) if tips else []
        if missing:
            sha = missing[0]
            raise UsageError(f"'{name}' has {len(missing)} branch or tag tip(s) no ref here reaches "
                             f"(e.g. {tips[sha]} at {sha[:10]}): their data would look dead to gc "
                             "--remote and be deleted; `git fetch --all --tags`, then gc --remote "
                             "again")


def _tips(listing: str) -> dict[str, str]:
    """commit -> a ref naming it, from ``git ls-remote`` (an annotated tag by its commit)."""
    rows = [line.split("\t", 1) for line in listing.splitlines() if "\t" in line]
    peeled = {ref[:-3] for _, ref in rows if ref.endswith("^{}")}
    tips: dict[str, str] = {}
    for sha, ref in rows:
        if ref.endswith("^{}"):
            tips[sha] = ref[:-3]
        elif ref not in peeled:
            tips[sha] = ref
    return tips


def _unreached(ws: Workspace, shas: list[str]) -> list[str]:
    """Those of ``shas`` that are not here, or that no local ref reaches."""
    here = set(existing_commits(ws.repo, set(shas)))
    missing = [s for s in shas if s not in here]
    present = [s for s in shas if s in here]
    if present:  # a tip no local ref reaches is listed itself (with what only it reaches)
        beyond = set(repo_run(ws.repo, ["rev-list", "--stdin", "--not", "--all"],
                              "".join(f"{s}\n" for s in present).encode()).decode().split())
        missing += [s for s in present if s in beyond]
    return missing
