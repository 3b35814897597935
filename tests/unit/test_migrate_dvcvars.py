"""DVC's ${...} templating as migrate from-dvc converts it (ops/migrate_dvcvars.py), on dvc.yaml
text and files given as a dict: no git, no DVC (test_migrate_dvc_templating.py runs the real DVC)."""

from __future__ import annotations

import pytest

from git_mlv.ops.migrate_dvcfiles import DvcStage, parse_dvc_yaml
from git_mlv.ops.migrate_dvcvars import VarsError

FILES = {
    "sub/params.yaml": b"train:\n  lr: 0.1\n  layers: [8, 16]\n  opts: {a: 1}\npaths:\n  out: o.txt\n",
    "sub/src/st.yaml": b"tag: v1\nother: 2\n",
}


def parse(yaml_text: str, read: dict[str, bytes] | None = FILES) -> list[DvcStage]:
    return parse_dvc_yaml("sub/dvc.yaml", yaml_text.encode(), None if read is None else read.get)


def test_references_inline_values_paths_and_list_indexes() -> None:
    [st] = parse("""\
vars:
  - inline: {name: hi}
stages:
  s:
    wdir: src
    vars: [st.yaml:tag]
    cmd: run ${train.lr} ${inline.name} ${tag} ${train.layers[1]} \\${HOME} > ${paths.out}
    outs: ["${paths.out}"]
""")
    assert st.cmd == r"run ${sub/params.yaml:train.lr} hi ${sub/src/st.yaml:tag} 16 \${HOME} > o.txt"
    assert st.dvc_cmd == "run 0.1 hi v1 16 ${HOME} > o.txt"  # as dvc.lock records it
    assert [o.path for o in st.outs] == ["sub/src/o.txt"]
    assert any("${paths.out} written as 'o.txt' (from sub/params.yaml)" in d for d in st.dropped)
    assert any("${train.layers[1]} written into the command as '16'" in d for d in st.dropped)


@pytest.mark.parametrize("cmd, words", [
    ("run ${train.nope}", "${train.nope} names nothing in params.yaml or vars"),
    ("run --opts ${train.opts}", "${train.opts} is a dict inside a string"),
    ("run ${other}", "${other} names nothing"),  # st.yaml:tag imports only tag
])
def test_what_cannot_be_converted_is_one_error(cmd: str, words: str) -> None:
    with pytest.raises(VarsError) as e:
        parse(f"stages:\n  s:\n    wdir: src\n    vars: [st.yaml:tag]\n    cmd: {cmd}\n")
    assert words in str(e.value) and "sub/dvc.yaml: stage 's'" in str(e.value)


def test_a_missing_vars_file_is_named_and_a_survey_leaves_the_stage_out() -> None:
    text = "vars: [gone.yaml]\nstages:\n  s:\n    cmd: run ${x}\n  plain:\n    cmd: echo\n"
    with pytest.raises(VarsError, match="vars file 'sub/gone.yaml' does not exist"):
        parse(text)
    # the history survey reads no file: the templated stage is left out, the others kept
    assert [s.name for s in parse(text, read=None)] == ["plain"]


def test_a_vars_file_matters_only_to_templated_stages() -> None:
    """The files were read for every dvc.yaml: a vars file gone stopped stages that use none."""
    [st] = parse("vars: [gone.yaml]\nstages:\n  plain:\n    cmd: echo $HOME\n")
    assert st.cmd == st.dvc_cmd == "echo $HOME"
