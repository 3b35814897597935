"""from-dvc on a dvc.yaml declaring metrics, params and plots at its top level (DVC 3), made and read
by the real DVC across two tags.

Regression: they were dropped without a word, and after the migration `git mlv metrics diff v1 v2`
said "No changes." where `dvc metrics diff v1 v2` showed auc 0.1 -> 0.5. `.gitmlv` names a stage's
metrics and params only, so the summary now says what was not converted and how to read the file.
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import git, mlv, out, write
from tests.integration.test_migrate_dvc import dvc, dvc_env, dvc_repo  # noqa: F401  (dvc_env: a fixture)

DVC_YAML = b"""\
metrics:
  - eval/scores.json
params:
  - hp.yaml
  - other.yaml
plots:
  - eval/scores.json:
      x: auc
stages:
  score:
    cmd: sh score.sh
    deps: [score.sh]
    params: [{hp.yaml: [alpha]}]
    outs: [eval/model.txt]
"""
SCRIPT = b"""\
a=$(sed -n "s/alpha: //p" hp.yaml)
mkdir -p eval
echo "{\\"auc\\": 0.$a}" > eval/scores.json
echo model$a > eval/model.txt
"""


def test_top_level_metrics_params_and_plots_are_named(tmp_path: Path, dvc_env: Path) -> None:  # noqa: F811
    repo = dvc_repo(tmp_path)
    write(repo / "dvc.yaml", DVC_YAML)
    write(repo / "score.sh", SCRIPT)
    write(repo / "other.yaml", b"seed: 1\n")
    for tag, alpha in (("v1", 1), ("v2", 5)):
        write(repo / "hp.yaml", b"alpha: %d\n" % alpha)
        dvc("repro", "-q", cwd=repo)
        git("add", "-A", cwd=repo)
        git("commit", "-q", "-m", tag, cwd=repo)
        git("tag", tag, cwd=repo)
    assert "0.1" in dvc("metrics", "diff", "v1", "v2", cwd=repo)
    res = out(mlv("migrate", "from-dvc", "--everything", cwd=repo))
    assert "Not converted, dvc.yaml: top-level metrics eval/scores.json:" in res, res
    assert "--file eval/scores.json" in res, res
    assert "Not converted, dvc.yaml: top-level params other.yaml: no stage reads them" in res, res
    assert "hp.yaml:" not in res and "Not converted, dvc.yaml: top-level plots:" in res, res
    diff = out(mlv("metrics", "diff", "v1", "v2", "--file", "eval/scores.json", cwd=repo))
    assert "auc" in diff and "0.1" in diff and "0.5" in diff, diff
    assert "Everything is up to date" in out(mlv("repro", cwd=repo))
