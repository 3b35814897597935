"""Pointer spec (docs/pointer-spec.md): exact lines, one valid encoding, unknown keys kept."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from git_mlv.core.pointer import MAX_SIZE, VERSION, Pointer, PointerError

OID = "a" * 64


def test_encoding_is_exact() -> None:
    assert Pointer(OID, 12345).encode() == (
        f"version {VERSION}\noid sha256:{OID}\nsize 12345\n".encode()
    )


def test_unknown_keys_are_kept_and_sorted() -> None:
    text = f"version {VERSION}\nalpha 1\noid sha256:{OID}\nsize 3\nzeta x y\n".encode()
    p = Pointer.parse(text)
    assert p.extra == (("alpha", "1"), ("zeta", "x y"))
    assert p.encode() == text


@pytest.mark.parametrize("text", [
    b"",
    f"version {VERSION}\nsize 3\noid sha256:{OID}\n".encode(),  # unsorted
    f"version {VERSION}\noid sha256:{OID}\nsize 03\n".encode(),  # leading zero
    f"version {VERSION}\noid sha256:{OID.upper()}\nsize 3\n".encode(),  # upper-case hex
    f"version {VERSION}\noid sha256:{OID}\nsize 3".encode(),  # no final LF
    f"version {VERSION}\r\noid sha256:{OID}\r\nsize 3\r\n".encode(),  # CRLF
    f"version {VERSION}\noid sha256:{OID}\n".encode(),  # no size
    f"version https://other/v1\noid sha256:{OID}\nsize 3\n".encode(),
    f"version {VERSION}\noid sha256:{OID}\noid sha256:{OID}\nsize 3\n".encode(),  # duplicate
    f"version {VERSION}\nOid sha256:{OID}\nsize 3\n".encode(),  # bad key
    f"version {VERSION}\noid sha256:{OID}\nsize 3\n".encode() + b"x" * MAX_SIZE,
])
def test_invalid_pointers_are_rejected(text: bytes) -> None:
    with pytest.raises(PointerError):
        Pointer.parse(text)
    assert Pointer.try_parse(text) is None


def test_too_many_extra_keys_cannot_encode() -> None:
    p = Pointer(OID, 1, tuple((f"k{i:03d}", "v" * 20) for i in range(60)))
    with pytest.raises(PointerError):
        p.encode()


@given(
    oid=st.text("0123456789abcdef", min_size=64, max_size=64),
    size=st.integers(min_value=0, max_value=2**63),
    extra=st.dictionaries(
        st.from_regex(r"[a-z0-9][a-z0-9.-]{0,8}", fullmatch=True).filter(
            lambda k: k not in ("oid", "size", "version")),
        st.text(st.characters(blacklist_characters="\n\r", blacklist_categories=("Cs",)),
                min_size=1, max_size=20),
        max_size=4,
    ),
)
def test_roundtrip_is_identity(oid: str, size: int, extra: dict[str, str]) -> None:
    p = Pointer(oid, size, tuple(sorted(extra.items())))
    data = p.encode()
    assert Pointer.parse(data) == p
    assert Pointer.parse(data).encode() == data


@given(st.binary(max_size=300))
def test_parse_never_crashes(data: bytes) -> None:
    p = Pointer.try_parse(data)
    if p is not None:
        assert p.encode() == data  # only the one valid encoding parses
