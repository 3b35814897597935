"""The byte-plane shuffle of SHUFFLE4_ZSTD chunks: the compiled module (core/_shuffle.c) and the numpy
fallback give exactly the bytes docs/formats.md defines, and the compiled one is built where a C
compiler is (a packaging slip would otherwise fall back silently, 5x slower)."""

from __future__ import annotations

import shutil
import sysconfig

import pytest
from hypothesis import given
from hypothesis import strategies as st

from git_mlv.core import compress as cz


def planes(data: bytes) -> bytes:
    """The definition: byte 0 of every whole 4-byte word, then bytes 1, 2, 3, then the tail as is."""
    n = len(data) - len(data) % 4
    return b"".join(data[i:n:4] for i in range(4)) + data[n:]


IMPLEMENTATIONS = [pytest.param(cz._np_shuffle4, cz._np_unshuffle4, id="numpy")]
if cz.ACCELERATED:
    from git_mlv.core import _shuffle

    IMPLEMENTATIONS.append(pytest.param(_shuffle.shuffle4, _shuffle.unshuffle4, id="C"))


@pytest.mark.parametrize(("shuffle", "unshuffle"), IMPLEMENTATIONS)
@given(data=st.binary(max_size=20000))
def test_shuffle_is_the_defined_permutation(shuffle, unshuffle, data: bytes) -> None:
    shuffled = shuffle(data)
    assert shuffled == planes(data)
    assert unshuffle(shuffled) == data
    assert type(shuffled) is bytes and type(unshuffle(shuffled)) is bytes


@pytest.mark.parametrize(("shuffle", "unshuffle"), IMPLEMENTATIONS)
@pytest.mark.parametrize("size", [0, 1, 3, 4, 5, 8191, 8192, 8195, 1 << 20, (1 << 20) + 2])
def test_any_buffer_at_the_gil_threshold(shuffle, unshuffle, size: int) -> None:
    """Sizes around the point where the C code releases the GIL; bytes, bytearray and memoryview in."""
    data = bytes((i * 131 + i // 7) & 0xFF for i in range(size))
    expected = planes(data)
    for given_as in (data, bytearray(data), memoryview(data)):
        assert shuffle(given_as) == expected
    assert unshuffle(memoryview(bytearray(expected))) == data


def test_compiled_module_is_built_where_a_compiler_is() -> None:
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(cc) is None:
        pytest.skip(f"no C compiler ({cc}): git-mlv runs on the numpy fallback here")
    assert cz.ACCELERATED, ("core/_shuffle.c was not built although a compiler is here: "
                            "reinstall (`make venv`) and read pip's output")
    assert cz.shuffle4 is _shuffle.shuffle4 and cz.unshuffle4 is _shuffle.unshuffle4
