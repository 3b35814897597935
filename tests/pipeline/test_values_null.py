"""A parameter or metric whose value is null (YAML `~`/`null`, JSON `null`) is a value, not a
missing one (real git, real git-mlv).

Regression: diffs looked values up with ``.get(key)``, so a key added with the value null (say
`warmup: null` in params.yaml) made no row at all, though `repro` calls the stage stale for it
("parameters changed"); and `pretrained: null` -> `imagenet` showed old `-`, as if the key were new.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import commit_all, git, mlv, write


def _rows(text: str) -> dict[str, list[str]]:
    return {line.split()[1]: line.split()[2:] for line in text.splitlines()[2:]}


def test_null_values_are_shown_and_compared(repo: Path) -> None:
    mlv("stage", "add", "-n", "s", "-p", "params.yaml", "-M", "m.json", "true", cwd=repo)
    write(repo / "params.yaml", b"lr: 0.1\npretrained: null\nhead: imagenet\n")
    write(repo / "m.json", b'{"acc": 0.5, "best_epoch": null}')
    commit_all(repo, "v1")
    git("tag", "v1", cwd=repo)
    write(repo / "params.yaml", b"lr: 0.1\npretrained: imagenet\nhead: ~\nwarmup: null\n")
    write(repo / "m.json", b'{"acc": 0.5, "best_epoch": 3, "stopped": null}')
    rows = _rows(mlv("params", "diff", "v1", cwd=repo).stdout.decode())
    assert rows == {"head": ["imagenet", "null", "-"], "pretrained": ["null", "imagenet", "-"],
                    "warmup": ["-", "null", "-"]}, rows
    rows = _rows(mlv("metrics", "diff", "v1", cwd=repo).stdout.decode())
    assert rows == {"best_epoch": ["null", "3", "-"], "stopped": ["-", "null", "-"]}, rows
    by_key = {r["key"]: r for r in json.loads(mlv("params", "diff", "v1", "--json", cwd=repo).stdout)}
    assert by_key["warmup"]["new"] is None and by_key["head"]["old"] == "imagenet"
    csv = mlv("metrics", "show", "v1", "workspace", "--csv", cwd=repo).stdout.decode().splitlines()
    assert csv == ["rev,acc,best_epoch,stopped", "v1,0.5,null,", "workspace,0.5,3,null"], csv
    table = mlv("metrics", "show", "v1", cwd=repo).stdout.decode().splitlines()
    assert table[2].split() == ["v1", "0.5", "null"], table
