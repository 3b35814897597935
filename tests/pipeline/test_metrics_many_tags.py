"""`metrics show --all-tags` over many tags: the git processes it starts do not grow with the tags
(each tag's `.gitmlv` was found, parsed and its revision verified by three git processes of its
own: 500 tags took 3.7 s, now 0.3 s), and what it shows is what each tag holds."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.helpers import mlv

TAGS = 40
SPEC = b'[stage "train"]\n\tcmd = true\n\tmetric = metrics.json\n'
SPEC2 = SPEC + b'[stage "eval"]\n\tcmd = true\n\tmetric = eval.json\n'  # from tag 20 on
BROKEN = b'[stage "train"\n\tcmd = true\n'  # tag 30 only


def _history(repo: Path) -> None:
    """TAGS commits on main, each tagged, by one fast-import."""
    stream = []
    for i in range(TAGS):
        spec = BROKEN if i == 30 else SPEC2 if i >= 20 else SPEC
        files = {".gitmlv": spec, "metrics.json": json.dumps({"acc": i / 100}).encode()}
        if i >= 20:
            files["eval.json"] = json.dumps({"auc": 1 - i / 100}).encode()
        stream.append(f"commit refs/heads/main\ncommitter t <t@x> {1_700_000_000 + i} +0000\ndata 1\n\n"
                      .encode())
        if i == 0:
            stream.append(b"deleteall\n")
        for name, data in files.items():
            stream.append(f"M 100644 inline {name}\ndata {len(data)}\n".encode() + data + b"\n")
        stream.append(f"\nreset refs/tags/t{i:03d}\nfrom refs/heads/main\n\n".encode())
    subprocess.run(["git", "fast-import", "--quiet"], input=b"".join(stream), cwd=repo, check=True)
    subprocess.run(["git", "reset", "-q", "--hard", "main"], cwd=repo, check=True)


def test_all_tags_in_a_fixed_number_of_git_processes(repo: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    _history(repo)
    trace = tmp_path / "trace"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    p = mlv("metrics", "show", "--all-tags", "--json", cwd=repo, check=False)
    monkeypatch.delenv("GIT_TRACE")
    gits = [line for line in trace.read_text().splitlines() if "trace: built-in: git" in line]
    # a handful, plus one `git config --blob` for each of the 3 distinct specs (3 a tag before: 120+)
    assert len(gits) <= 7 + 3, "\n".join(gits)

    data = json.loads(p.stdout)
    assert data["t000"] == {"metrics.json": {"acc": 0.0}}
    assert data["t019"] == {"metrics.json": {"acc": 0.19}}
    assert data["t020"] == {"metrics.json": {"acc": 0.2}, "eval.json": {"auc": 0.8}}
    assert data["t039"]["eval.json"] == {"auc": 0.61}
    assert "t030" not in data or data["t030"] == {}  # its spec does not parse: named, others shown
    assert "t030:.gitmlv" in p.stderr.decode()
    assert len([t for t in data if data[t] and t != "workspace"]) == TAGS - 1  # the work tree: last
