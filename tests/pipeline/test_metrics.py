"""metrics show/diff, params diff and plots across three tags, read from git objects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import git, mlv, write

REVS = {  # tag: (metrics.json, eval/scores.yaml, params.yaml)
    "v1.0": ({"acc": 0.5, "loss": {"train": 0.9, "val": 1.0}}, "auc: 0.6\n",
             "lr: 0.1\nepochs: 3\nseed: 1\n"),
    "v2.0": ({"acc": 0.7, "loss": {"train": 0.5, "val": 0.8}}, "auc: 0.7\n",
             "lr: 0.05\nepochs: 3\nseed: 1\n"),
    "v3.0": ({"acc": 0.75, "loss": {"train": 0.4, "val": 0.7}}, None,
             "lr: 0.05\nepochs: 5\nseed: 1\n"),
}


@pytest.fixture
def tagged(repo: Path) -> Path:
    """Three tags with a JSON and a YAML metric file (the YAML one missing at v3.0)."""
    mlv("stage", "add", "-n", "train", "-p", "params.yaml:lr,epochs", "-M", "metrics.json", "true", cwd=repo)
    mlv("stage", "add", "-n", "eval", "-M", "eval/scores.yaml", "true", cwd=repo)
    for tag, (metrics, scores, params) in REVS.items():
        write(repo / "metrics.json", json.dumps(metrics).encode())
        write(repo / "params.yaml", params.encode())
        if scores is None:
            (repo / "eval" / "scores.yaml").unlink()
        else:
            write(repo / "eval" / "scores.yaml", scores.encode())
        git("add", "-A", cwd=repo)
        git("commit", "-qm", tag, cwd=repo)
        git("tag", "-a", "-m", tag, tag, cwd=repo)
    write(repo / "metrics.json", b"{\"acc\": 0.99}")  # the work tree differs from every tag
    return repo


def out(*args: str, cwd: Path) -> str:
    return mlv(*args, cwd=cwd).stdout.decode()


def test_show_all_tags(tagged: Path) -> None:
    data = json.loads(out("metrics", "show", "--all-tags", "--json", cwd=tagged))
    # the work tree last, as DVC's -T and -a show it (left out before 2026-12-04)
    assert list(data) == ["v1.0", "v2.0", "v3.0", "workspace"]
    assert data["workspace"]["metrics.json"] == {"acc": 0.99}
    assert data["v2.0"]["metrics.json"] == {"acc": 0.7, "loss.train": 0.5, "loss.val": 0.8}
    assert data["v1.0"]["eval/scores.yaml"] == {"auc": 0.6}
    assert "eval/scores.yaml" not in data["v3.0"]  # missing file: missing cells, not an error
    table = out("metrics", "show", "-T", cwd=tagged).splitlines()
    assert table[0].split() == ["rev", "eval/scores.yaml:auc", "metrics.json:acc", "metrics.json:loss.train",
                                "metrics.json:loss.val"]
    assert table[4].split() == ["v3.0", "-", "0.75", "0.4", "0.7"]
    csv = out("metrics", "show", "-T", "--csv", cwd=tagged).splitlines()
    assert csv[3] == "v3.0,,0.75,0.4,0.7"
    md = out("metrics", "show", "v1.0", "--md", cwd=tagged).splitlines()
    assert md[0].startswith("| rev | eval/scores.yaml:auc |") and md[2].startswith("| v1.0 | 0.6 |")
    work = json.loads(out("metrics", "show", "--json", cwd=tagged))["workspace"]
    assert work["metrics.json"] == {"acc": 0.99}


def test_diff_between_tags(tagged: Path) -> None:
    rows = json.loads(out("metrics", "diff", "v1.0", "v3.0", "--json", cwd=tagged))
    by_key = {(r["path"], r["key"]): r for r in rows}
    assert by_key[("metrics.json", "acc")]["old"] == 0.5
    assert by_key[("metrics.json", "acc")]["new"] == 0.75
    assert by_key[("metrics.json", "acc")]["change"] == pytest.approx(0.25)
    assert by_key[("eval/scores.yaml", "auc")] == {"path": "eval/scores.yaml", "key": "auc", "old": 0.6,
                                                   "new": None, "change": None}
    text = out("metrics", "diff", "v1.0", "v2.0", cwd=tagged)
    assert text.splitlines()[0].split() == ["path", "metric", "old", "new", "change"]
    assert any(line.split() == ["metrics.json", "acc", "0.5", "0.7", "0.2"] for line in text.splitlines())
    # default: HEAD against the work tree
    rows = json.loads(out("metrics", "diff", "--json", cwd=tagged))
    assert {(r["key"], r["old"], r["new"]) for r in rows if r["path"] == "metrics.json"} >= {
        ("acc", 0.75, 0.99), ("loss.train", 0.4, None)}


def test_params_diff(tagged: Path) -> None:
    rows = json.loads(out("params", "diff", "v1.0", "v3.0", "--json", cwd=tagged))
    assert [(r["key"], r["old"], r["new"]) for r in rows] == [("epochs", 3, 5), ("lr", 0.1, 0.05)]
    assert json.loads(out("params", "diff", "v2.0", "v3.0", "--json", cwd=tagged)) == [
        {"path": "params.yaml", "key": "epochs", "old": 3, "new": 5, "change": 2}]
    every = json.loads(out("params", "diff", "v2.0", "v3.0", "--all", "--json", cwd=tagged))
    assert {r["key"] for r in every} == {"epochs", "lr"}  # seed is no stage's param
    assert out("params", "diff", "v3.0", "v3.0", cwd=tagged) == "No changes.\n"


def test_plots_writes_a_png(tagged: Path, tmp_path: Path) -> None:
    from PIL import Image

    target = tmp_path / "metrics.png"
    msg = out("plots", "--all-tags", "-o", str(target), cwd=tagged)
    assert msg == f"Wrote {target} (4 metric(s) over 3 revision(s))\n"
    with Image.open(target) as im:
        assert im.format == "PNG"
        assert im.size[0] > 400 and im.size[1] > 200
        im.verify()
    p = mlv("plots", "-m", "nope", "-o", str(target), cwd=tagged, check=False)
    assert p.returncode == 1
    assert p.stderr.decode().startswith("git-mlv: error: no numeric metric named 'nope'")


@pytest.mark.parametrize("verb", [["metrics", "diff", "v9", "--json"], ["params", "diff", "v1.0", "v9"],
                                  ["metrics", "show", "-T", "v9"], ["plots", "v9"]])
def test_unknown_revision(tagged: Path, verb: list[str]) -> None:
    """A typo'd revision is a usage error (exit 2), as in `git mlv diff`; the pipeline verbs exited
    1 (README: 1 is a failure such as missing data), so a script could not tell it apart."""
    p = mlv(*verb, cwd=tagged, check=False)
    assert p.returncode == 2 and p.stderr.decode() == (
        "git-mlv: error: unknown revision 'v9' (a tag or branch a shallow or single-branch clone "
        "lacks? `git fetch --tags` or `git fetch origin v9` brings it)\n")
    p = mlv("metrics", "diff", "HEAD~9", cwd=tagged, check=False)
    assert p.returncode == 2 and p.stderr.decode() == "git-mlv: error: unknown revision 'HEAD~9'\n"


@pytest.mark.parametrize("verb", [["metrics", "diff"], ["params", "diff"], ["metrics", "show", "HEAD"]])
def test_before_the_first_commit(tmp_path: Path, verb: list[str]) -> None:
    """A new repository, metrics written, nothing committed: `metrics diff` (A = HEAD) said
    "unknown revision 'HEAD'", as if HEAD were a typo; it now says there is no commit yet."""
    git("init", "-q", str(tmp_path / "new"), cwd=tmp_path)
    (tmp_path / "new" / "metrics.json").write_text('{"acc": 0.5}')
    p = mlv(*verb, cwd=tmp_path / "new", check=False)
    assert p.returncode == 1 and p.stderr.decode() == (
        "git-mlv: error: no commit yet, so 'HEAD' names nothing: commit first (`git commit`), "
        "then compare\n")


def test_show_names_a_metrics_file_missing_from_the_work_tree(tagged: Path) -> None:
    """eval/scores.yaml is a stage's metric, gone from the work tree (as at v3.0): `metrics show`
    printed the other file's values, or "No metrics found." when none was left, and nothing about
    it. It now warns, naming the file; `metrics diff` still compares what exists."""
    (tagged / "metrics.json").unlink()
    p = mlv("metrics", "show", cwd=tagged)
    assert p.stdout.decode() == "No metrics found.\n"
    assert p.stderr.decode().splitlines() == [
        "git-mlv: warning: eval/scores.yaml: no such file in the work tree (`git mlv repro` makes it)",
        "git-mlv: warning: metrics.json: no such file in the work tree (`git mlv repro` makes it)"]
    rows = json.loads(mlv("metrics", "diff", "v2.0", "--json", cwd=tagged).stdout)
    assert {(r["path"], r["key"], r["old"], r["new"]) for r in rows} >= {
        ("eval/scores.yaml", "auc", 0.7, None), ("metrics.json", "acc", 0.7, None)}


def test_all_tags_leaves_out_tags_of_blobs_and_trees(tagged: Path, tmp_path: Path) -> None:
    """A tag of a blob (a maintainer's signing key, as git.git has) or of a tree stopped
    `metrics show --all-tags` and `plots` with "unknown revision"; they are left out, and a tag
    of a tag of a commit is kept."""
    key = git("hash-object", "-w", "params.yaml", cwd=tagged).stdout.decode().strip()
    git("tag", "signing-key", key, cwd=tagged)
    git("tag", "-a", "-m", "t", "a-tree", "HEAD^{tree}", cwd=tagged)
    git("tag", "-a", "-m", "t", "tree-again", "a-tree", cwd=tagged)
    git("tag", "-a", "-m", "t", "release", "v2.0", cwd=tagged)
    data = json.loads(out("metrics", "show", "--all-tags", "--json", cwd=tagged))
    assert sorted(data) == ["release", "v1.0", "v2.0", "v3.0", "workspace"]
    assert data["release"] == data["v2.0"]
    msg = out("plots", "-o", str(tmp_path / "p.png"), cwd=tagged)
    assert "over 4 revision(s)" in msg
