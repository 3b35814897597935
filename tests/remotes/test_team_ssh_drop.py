"""The SSH connection drops mid-push (sshd's connection processes killed, the listener stays):
the push reconnects, finishes and says so in one line; a clone gets exact bytes.

Regression: paramiko's transport thread logged "Socket exception: Connection reset by peer
(104)" and Python printed it to stderr, beside our own output, although the retry succeeded.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from tests.helpers import BIN, commit_all, git, random_bytes, sha256_file, write
from tests.remotes.servers import SSHServer, _children


def test_connection_dropped_mid_push(repo: Path, tmp_path: Path, sshd: SSHServer) -> None:
    store = tmp_path / "store"
    url = f"ssh://{sshd.user}@127.0.0.1:{sshd.port}{store}"
    names = [f"f{i}.bin" for i in range(40)]
    for i, name in enumerate(names):
        write(repo / name, random_bytes(300_000, seed=500 + i))
    subprocess.run([os.path.join(BIN, "git-mlv"), "remote", "add", "box", url, "--default"], cwd=repo,
                   check=True, capture_output=True)
    commit_all(repo, "data")
    proc = subprocess.Popen([os.path.join(BIN, "git-mlv"), "push"], cwd=repo, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not any(p.name.endswith(".idx") for p in (store / "packs").glob("*")) \
            and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)  # until the first pack is in: the push is under way
    assert proc.poll() is None, "the push ended before the connection could be dropped"
    assert sshd.proc is not None
    for pid in _children(sshd.proc.pid):  # every connection; the listener stays
        os.kill(pid, signal.SIGKILL)
    out, err = proc.communicate(timeout=300)
    text = err.decode()
    assert proc.returncode == 0, text
    assert "Socket exception" not in text and "Traceback" not in text, text
    assert [line for line in text.splitlines() if line] == [
        line for line in text.splitlines() if line.startswith("git-mlv: pushed data of 40 file(s)")], text

    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("push", "-q", str(origin), "main", cwd=repo)
    clone = tmp_path / "clone"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    for name in names:
        assert sha256_file(clone / name) == sha256_file(repo / name), name
