"""The spec in .gitmlv: canonical writing, round trips through git's own parser, validation."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from git_mlv.gitio.git import Repo
from git_mlv.pipeline import spec as specfile
from git_mlv.pipeline.configfile import ConfigFileError, quote, read_items
from git_mlv.pipeline.spec import Spec, SpecError, Stage
from tests.helpers import git


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    git("init", "-q", cwd=tmp_path)
    return Repo.discover(str(tmp_path))


def two_stages() -> Spec:
    return Spec({
        "train": Stage("train", "python train.py", deps=["train.py", "features.npy"],
                       params=["params.yaml:lr", "params.yaml:epochs"], outs=["model.h5"],
                       metrics=["metrics.json"]),
        "featurize": Stage("featurize", "python featurize.py", deps=["data", "featurize.py"],
                           outs=["features.npy"], outs_nocache=["log.txt"]),
    })


def test_canonical_text_is_sorted_and_fixed_order(repo: Repo) -> None:
    specfile.save(repo, two_stages())
    text = Path(repo.top, ".gitmlv").read_text()
    assert text == (
        '[stage "featurize"]\n'
        "\tcmd = python featurize.py\n"
        "\tdep = data\n"
        "\tdep = featurize.py\n"
        "\tout = features.npy\n"
        "\toutnocache = log.txt\n"
        '[stage "train"]\n'
        "\tcmd = python train.py\n"
        "\tdep = features.npy\n"
        "\tdep = train.py\n"
        "\tparam = params.yaml:epochs\n"
        "\tparam = params.yaml:lr\n"
        "\tout = model.h5\n"
        "\tmetric = metrics.json\n"
    )


def test_round_trip_and_git_agrees(repo: Repo) -> None:
    specfile.save(repo, two_stages())
    back = specfile.load(repo)
    assert sorted(back.stages) == ["featurize", "train"]
    assert sorted(back.stages["train"].params) == ["params.yaml:epochs", "params.yaml:lr"]
    deps = git("config", "-f", ".gitmlv", "--get-all", "stage.train.dep", cwd=repo.top).stdout
    assert deps.decode().split() == ["features.npy", "train.py"]


def test_other_sections_survive_byte_for_byte(repo: Repo) -> None:
    head = '# shared settings\n[core]\n\tremote = store\n[remote "store"]\n\turl = s3://b/p  ; note\n'
    tail = '[remote "backup"]\n\turl = /mnt/x\n'
    Path(repo.top, ".gitmlv").write_text(head + '[stage "old"]\n\tcmd = true\n' + tail)
    specfile.save(repo, two_stages())
    text = Path(repo.top, ".gitmlv").read_text()
    assert text.startswith(head + tail)
    assert '[stage "old"]' not in text
    before = text
    specfile.save(repo, specfile.load(repo))  # idempotent
    assert Path(repo.top, ".gitmlv").read_text() == before
    items = read_items(repo, path=str(Path(repo.top, ".gitmlv")))
    assert ("core", "", "remote", "store") in items


def test_unknown_keys_are_kept(repo: Repo) -> None:
    Path(repo.top, ".gitmlv").write_text('[stage "a"]\n\tdesc = my stage\n\tcmd = true\n')
    spec = specfile.load(repo)
    assert spec.stages["a"].extra == [("desc", "my stage")]
    specfile.save(repo, spec)
    assert Path(repo.top, ".gitmlv").read_text() == '[stage "a"]\n\tcmd = true\n\tdesc = my stage\n'


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00")
               | st.sampled_from(['"', "\\", "#", ";", "\t", "\n", " "]), min_size=1, max_size=40)
       .filter(lambda s: s.strip()))
def test_any_command_round_trips(repo: Repo, cmd: str) -> None:
    specfile.save(repo, Spec({"s": Stage("s", cmd)}))
    assert specfile.load(repo).stages["s"].cmd == cmd


def test_quote_only_when_needed() -> None:
    assert quote("python train.py") == "python train.py"
    assert quote('echo "a#b"') == '"echo \\"a#b\\""'
    assert quote(" lead") == '" lead"'


@pytest.mark.parametrize("stages, message", [
    ({"a": Stage("a", "x", outs=["m"]), "b": Stage("b", "y", outs=["m"])},
     "stage 'b': output 'm' is already an output of stage 'a'"),
    ({"a": Stage("a", "x", outs=["d"]), "b": Stage("b", "y", metrics=["d/m.json"])},
     "stage 'b': output 'd/m.json' is already an output of stage 'a'"),
    ({"a b": Stage("a b", "x")}, "stage 'a b': a stage name is letters"),
    ({"a": Stage("a", "x", deps=["m"], outs=["m"])}, "stage 'a': 'm' is both a dependency and an output"),
    ({"a": Stage("a", "x", deps=["../up"])}, "stage 'a': '../up' is outside the repository"),
    ({"a": Stage("a", "x", outs=[".git/x"])}, "is inside .git"),
    ({"a": Stage("a", "  ")}, "stage 'a': has no cmd"),
    ({"a": Stage("a", "x", params=["p.yaml:a=b"])}, "param key 'a=b'"),
])
def test_validation_names_the_stage(stages: dict[str, Stage], message: str) -> None:
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Spec(stages).validate()


def test_malformed_file_is_one_clear_error(repo: Repo) -> None:
    Path(repo.top, ".gitmlv").write_text('[stage "a"\n\tcmd = x\n')
    with pytest.raises(ConfigFileError, match=r"^\.gitmlv is malformed: bad config line 2$"):
        specfile.load(repo)


def test_two_cmds_is_an_error(repo: Repo) -> None:
    Path(repo.top, ".gitmlv").write_text('[stage "a"]\n\tcmd = x\n\tcmd = y\n')
    with pytest.raises(SpecError, match="stage 'a' needs exactly one cmd"):
        specfile.load(repo)


def test_load_at_revision_reads_git_objects(repo: Repo) -> None:
    specfile.save(repo, two_stages())
    git("add", ".gitmlv", cwd=repo.top)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "spec", cwd=repo.top)
    Path(repo.top, ".gitmlv").unlink()
    assert sorted(specfile.load_at(repo, "HEAD").stages) == ["featurize", "train"]
    assert specfile.load(repo).stages == {}
    assert specfile.load_at(repo, "HEAD~0^{tree}").stages  # any tree-ish


def test_param_args_and_paths(tmp_path: Path) -> None:
    top = str(tmp_path)
    sub = str(tmp_path / "src")
    assert specfile.param_args("params.yaml:lr, epochs", top) == ["params.yaml:lr", "params.yaml:epochs"]
    assert specfile.param_args("params.yaml", top) == ["params.yaml"]
    assert specfile.param_args("lr,model.depth", top) == ["params.yaml:lr", "params.yaml:model.depth"]
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "conf").write_text("a: 1\n")
    assert specfile.param_args("conf", top, sub) == ["src/conf"]
    assert specfile.param_args("../p.json:a.b", top, sub) == ["p.json:a.b"]
    assert specfile.normalize_path("x/../y/", top, sub) == "src/y"
    with pytest.raises(SpecError, match="outside the repository"):
        specfile.normalize_path("../../z", top, sub)
    with pytest.raises(SpecError, match="no keys after"):
        specfile.param_args("p.yaml:", top)
