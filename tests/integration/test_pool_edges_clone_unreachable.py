"""A clone whose data remote cannot be reached says why once.

The filter's background fetch fails and warns with the cause; the post-checkout hook of the same
`git clone` (another process) then tried the remote again and printed the cause a second time —
~4 s more for a closed SSH port. The filter now leaves ``failed <remote>`` in its smudge record
(docs/formats.md#smudge-record) and the hook of that git command does not ask the remote again;
the next command does.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

from git_mlv.core.pointer import Pointer
from tests.helpers import commit_all, git, mlv, out, random_bytes, write


def _origin(repo: Path, tmp_path: Path, url: str) -> Path:
    bare = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(bare), cwd=tmp_path)
    git("remote", "add", "origin", str(bare), cwd=repo)
    mlv("remote", "add", "store", url, "--default", cwd=repo)
    write(repo / "a.bin", random_bytes(40_000, seed=1))
    write(repo / "data" / "b.bin", random_bytes(30_000, seed=2))
    commit_all(repo, "data")
    git("-c", "mlv.pushFailOk=true", "push", "-q", "origin", "main", cwd=repo)
    return bare


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _clone(bare: Path, tmp_path: Path) -> tuple[Path, str, list[dict[str, object]]]:
    clone, trace = tmp_path / "clone", tmp_path / "trace"
    env = dict(os.environ, MLV_HOOK_TRACE=str(trace))
    p = subprocess.run(["git", "clone", "-q", str(bare), str(clone)], cwd=tmp_path, env=env,
                       capture_output=True)
    assert p.returncode == 0, p.stderr
    records = [json.loads(line) for line in trace.read_text().splitlines()] if trace.exists() else []
    return clone, p.stderr.decode(), records


def _check(clone: Path, err: str, records: list[dict[str, object]], cause: str) -> None:
    assert err.count(cause) == 1, err
    assert err.count("could not fetch data") == 1, err
    assert Pointer.parse((clone / "a.bin").read_bytes())  # pointers, as promised
    assert out(git("status", "--porcelain", cwd=clone)) == ""
    hook = [r for r in records if r["hook"] == "post-checkout"]
    assert len(hook) == 1 and hook[0]["not_retried"] is True and hook[0]["missing"] == 2, records


def test_a_clone_from_a_closed_ssh_port_says_why_once(repo: Path, tmp_path: Path) -> None:
    port = _closed_port()
    bare = _origin(repo, tmp_path, f"ssh://127.0.0.1:{port}/srv/store")
    clone, err, records = _clone(bare, tmp_path)
    _check(clone, err, records, "Connection refused")
    # the next command is another git process: it asks the remote again (and fails again)
    p = mlv("pull", cwd=clone, check=False)
    assert p.returncode != 0 and "Connection refused" in p.stderr.decode()


def test_a_clone_from_a_folder_gone_says_why_once(repo: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    bare = _origin(repo, tmp_path, str(store))
    mlv("push", cwd=repo)
    store.rename(tmp_path / "away")
    clone, err, records = _clone(bare, tmp_path)
    _check(clone, err, records, "does not exist")
    (tmp_path / "away").rename(store)  # back: the next command fetches
    mlv("pull", cwd=clone)
    assert (clone / "a.bin").read_bytes() == random_bytes(40_000, seed=1)
    assert (clone / "data" / "b.bin").read_bytes() == random_bytes(30_000, seed=2)
