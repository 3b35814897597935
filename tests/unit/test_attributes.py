"""A pattern written to .gitattributes reads back as that pattern (hypothesis): whatever its
characters, one line, our attributes, and a pattern that is the same to git."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from git_mlv.gitio import attributes

NOT_UTF8 = st.sampled_from([chr(0xDC80 + i) for i in range(128)])  # bytes >= 0x80 (surrogateescape)
# Any other lone surrogate (U+D800...) cannot reach us: a name from argv or the file system is
# decoded with surrogateescape, which gives only NOT_UTF8's (the test drew U+D800 now and then)
TEXT = st.characters(exclude_categories=("Cs",))
PATTERNS = st.text(st.one_of(TEXT, st.sampled_from(' \t\r\n"\\#![]*'), NOT_UTF8),
                   min_size=1).filter(lambda p: attributes.problem(p) is None)


@given(PATTERNS)
def test_a_written_pattern_reads_back(pattern: str) -> None:
    line = attributes.line(pattern)
    data = (line + "\n").encode("utf-8", "surrogateescape")  # as the file holds it
    assert data.count(b"\n") == 1
    assert len(data.decode("utf-8", "surrogateescape").splitlines()) == 1
    parsed = attributes.parse(line)
    assert parsed is not None and parsed[1] == attributes.ATTRS.split()
    back = parsed[0]
    assert attributes.field(back) == attributes.field(pattern)
    if "[[:space:]]" not in pattern and not pattern.startswith(("\\#", '\\"')):
        assert back == pattern
    assert attributes.patterns_in([line]) == [back]


@given(PATTERNS)
def test_untrack_takes_a_pattern_as_listed(pattern: str) -> None:
    line = attributes.line(pattern)
    text = attributes.with_patterns(b"# ours\n", [pattern])
    assert text == f"# ours\n{line}\n".encode("utf-8", "surrogateescape")
    assert attributes.with_patterns(text, [pattern]) == text  # already there
    listed = attributes.display(pattern)
    assert "\n" not in listed and "\r" not in listed
    assert attributes.field(pattern) in attributes._same(listed)


def test_ordinary_patterns_are_written_as_before() -> None:
    assert attributes.field("*.bin") == "*.bin"
    assert attributes.field("/we ird\\[1\\].bin") == "/we[[:space:]]ird\\[1\\].bin"
    assert attributes.field(attributes.anchored("#h/!x.dat")) == "/\\#h/\\!x.dat"
    assert attributes.field("#*.bin") == "\\#*.bin"
    assert attributes.field("/a\tb") == '"/a\\tb"'
    assert attributes.field("/x\udce9 y") == '"/x\\351 y"'
