"""Damaged files found by fuzzing `git mlv textconv` (real git): each stopped git diff with an
internal error (exit 70; git diff exit 128, "unable to read files to diff"). An .npz member whose
flags say "encrypted" (zipfile raises RuntimeError), an Arrow file whose damaged length asks for
exabytes ("ArrowMemoryError: malloc of size 3438715874601639232 failed"), and an Arrow file whose
timestamp column says it has values but yields none ("TypeError: unsupported operand type(s) for
divmod(): 'NoneType' and 'int'"). The Arrow files are the fuzzer's own (bytes of a 2-row file of
a nanosecond timestamp and a duration, mutated), kept as they are. And an Arrow file whose
string offsets were damaged: pyarrow does not check a memory-mapped file's offsets, and its
value_counts read outside the map: a segmentation fault (exit 139) in textconv and in
`git mlv diff --key`; record batches are now validated first."""

from __future__ import annotations

import base64
import io
import zlib
from pathlib import Path

import numpy as np

from tests.helpers import commit_all, git, mlv, out, write

HUGE_LENGTH = base64.b64decode(
    "QVJST1cxAAD/////oAAAABAAAAAAAAoADAAGAAUACAAKAAAAAAEEAAwAAAAIAAgAAAAEAAgAAAAEAAAAAgAAAEAAAAAEAAAA"
    "2P///wAAARIQAAAAFAAAAAQAAAAAAAAAAQAAAGQAAADG////AAADABAAFAAIAAYABwAMAAAAEAAQAAAAAAABChAAAAAcAAAA"
    "BAAAAAAAAAACAAAAdHMAAAAABgAIAAYABgAAAAAAAwD/////yAAAABQAAAAAAAAADAAYAAYABQAIAAwADAAAAAADBAAcAAAA"
    "UAAAAAAAAAAAAAAADAAcABAABAAIAAwADAAAAGgAAAAcAAAAFAAAAAIAAAAAAAAAAAAAAAQABAAEAAAABAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAACcAAAAAAAAAKAAAAAAAAAAAAAAAAAAAACgAAAAAAAAAJgAAAAAAAAAAAAAAAgAAAAIAAAAAAAAA"
    "AAAAAAAAAAACAAAAAAAAAAAAAAAAAAAAEAAAAAAAAAAEIk0YYECCEAAAgBXNhT3+nJcXAcrEcf6clxcAAAAAAB6dIG3exbgv"
    "Wr8r6zfh6pFgEAAAAAAAAAAEIk0YYECCDwAAADHpAwABAIAFAAAAAAAAAAAAAAAAAP////8AAAAAEAAAAAwAFAAGAAgADAAQ"
    "AAwAAAAAAAQANAAAACQAAAAEAAAAAQAAALAAAAAAAAAA0AAAAAAAAABQAAAAAAAAAAAAAAAIAAgAAAAEAAgAAAAEAAAAAgAA"
    "AEAAAAAEAAAA2P///wAAARIQAAAAFAAAAAQAAAAAAAAAAQAAAGQAAADG////AAADABAAFAAIAAYABwAMAAAAEAAQAAAAAAAB"
    "ChAAAAAcAAAABAAAAAAAAAACAAAAdHMAAAAABgAIAAYABgAAAAAAAwDIAAAAQVJST1cx")
NO_VALUE = base64.b64decode(
    "QVJST1cxAAD/////oAAAABAAAAAAAAoADAAGAAUACAAKAAAAAAEEAAwAAAAIAAgAAAAEAAgAAAAEAAAAAgAAAEAAAAAEAAAA"
    "2P///wAAARIQAAAAFAAAAAQAAAAAAAAAAQAAAGQAAADG////AAADABAAFAAIAAYABwAMAAAAEAAQAAAAAAABChAAAAAcAAAA"
    "BAAAAAAAAAACAAAAdHMAAAAABgAIAAYABgAAAAAAAwD/////yAAAABQAAABtAAAADAAYAAYABQAIAAwADAAAAAADBAAcAAAA"
    "UAAAAAAAAAAAAAAADAAcABAABAAIAAwADAAAAGgAAAAcAAAAFAAAAAIAAAAAAAAAAAAAAAQABAAEAAAABAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAACcAAAAAAAAAKAAAAAAAAAAAAAAAAAAAACgAAAAAAAAAJgAAAAAAAAAAAAAAAgAAAAIAAAAAAAAA"
    "5wAAAAAAAAACAAAAAAAAAAAAAAAAAAAAEAAAAAAAAAAEIk0YYECCEAAAgBXNhT3unJcXAcrEcf6clxcAAAAAABAAAAAAAAAA"
    "BCJNGGBAgg8AAAAx6QMAAQCABQAAAACaAAAAAAAAAAD/////AAAAABAAAAAMABQABgAIAAwAEAAMAAAAAAAEADQAAAAkAAAA"
    "BAAAAAEAAACwAAAAAAAAANAAAAAAAAAAUAAAAAAAAAAAAAAACAAIAAAABAAIAAAABAAAAAIAAABAAAAABAAAANj///8AAAES"
    "EAAAABQAAAAEAAAAAAAAAAEAAABkAAAAxv///wAAAwAQABQACAAGAAcADAAAABAAEAAAAAAAAQoQAAAAHAAAAAQAAAAAAAAA"
    "AgAAAHRzAAAAAAYACAAGAAYAAAAAAAMAyAAAAEFSUk9XMQ==")

# a 12-column Arrow file (lists, structs, dictionaries, strings, ...) with 18 bytes changed
BAD_OFFSETS = zlib.decompress(base64.b64decode(
    "eNrtWE1ME0EUfrO73TZYSCk9rAlqRY0NHgQlBBNiwMSEg8SGkMjBA9DW2PBj0x9T4qUxmnAghiOJHjh44MCBo0dMPHroSTly"
    "s0cPHjxA1zezb9rd6RYIehDjJK+zb973fua9mdnZjk9NPXw0CGBjq+oAEeCtA8JgQgBC+ISNGWBgt3po27wPIxURayC90gBG"
    "kfYZwBZSDWW7SBtIaaQRJK7z+cC20ZDG7ffSGG9oAkrDQ/hrojcDfwHGkA4cfJTjYwo+XcrDF5vLAa4eClzIz2769i2yawq7"
    "vE07eN3P7pPBYdhGednBGH6Y+ewyVFH+zsF0c7lFGJy+yB+mA5ZyAD8Rs+nE2ckxccJx+QzZDiJllov5bKYAibpt/zhs5kna"
    "/YYUQHo+t1jKYF8TGGBjwl8M58fthAXn1A8CfrEvZFZgDX3M1IWPoG/OMim0F8axkLDbQfGuOTodqg6XFQsgdEzSieOoXCf3"
    "S/lnuczN5Fw+WwARoSXqwePlsTvxsgCPdcgvnmyKrBr0i/OvO/Pn+XyM+U2IHDOR415Xjkdc9SgUcf0ibtrBtuSH124FaRvl"
    "ZbtZAxVTRnpqN/P/3sGGYy7fjPR4/Ivo2ABn/1Tt1toC9dliZok/f7LV2ppKbVv3EJ9fNu3UIIToEIXLbfB9/YHiAVETi3Z2"
    "WFgFzRCxTECzufMdETq92BsNnRnyHyPf0JiHM08d2rcr1CeoP++SMcUe0BoStvsmrdmxl8hWfKGaF4dsZW7eJed52NOPyINu"
    "iDnldLdv77zLWnPeus+8rx0x737qB6i3qJd5v059TtGTvLS9oejvKPgdBb+nyPcUfyKTrjrEmRcveVm3Ceb1P8u881tX5FvE"
    "35D+Ffl35o3HUhZAO/4S8SOa115SwScVfE7Br2pe/zuaNx9VxZ7kL8j4FbnkZb4sZTNIXuZrQpFLPuEai/rsKd1bvpZ9o8rb"
    "6R/HsxPyyrI5lv9T8YGyH2j/9+BjH0PrUS0I6z4nEvPika3oAPL+0xiP0HmjuQh8cF3SX0U71k/AJ16u3y/0lVDbxMPUM9Dv"
    "/Eud7Bw9Tbw8v68hfjnytdNEndzm2643UfME+R3wjvOjtP8Fou/crdsMghch+Vt1Yi6id5kHF1Ln7WN/oY0eO3VcH1vXj0+9"
    "wHbZN71yk8tH8WZ8r309z00CSDr1vlDw3fjYg4Xp4UuTKe9TaNwPYuLux290YXojPqAzTN6HanRZ2SeX7vcsc43vKu9F+Ce+"
    "O2pn8rsDzth3B/z/7vhrvjssBI2L/xZ+AbPOoOU="))

# the same 12-column file with a decimal that is not a number once read
BAD_DECIMAL = zlib.decompress(base64.b64decode(
    "eNrtWD1MFEEUfrO7t3fBgxxwxZqgImq8YCEoIZgQAyYmFBIvhERiLPi5M1748XI/5ojNxWhCQQwliRYUFhQUlJYUlhZXKSUl"
    "pYWFBbC+N/uG2x32gKCNkUnezb553/uZ92ZmZ294bOzxk14AF1vNBEgAtSaIgw0RiOETNmGBhd3SvutSH0cqIdZCemsADCLt"
    "CIB1pF2UbSGtImWQBpBI5+ue66Ihg+x38Bg1NAHl/j78tdGbhb8AQ0h7Hr6N8EkNnykX4JtLcoDr+xIXC7ObuXuH7drSLrVx"
    "D2+G2X3e2w8bKK94GCsMM51bgBrKP3qYVpI7jMHpy/xhOmA+D/ALMWtenM2E6WQcySfYdhQpu1Aq5LJFSB247s/9ep4cn+8I"
    "0qupuXIW+12JATEk/SVxfmQnLrkEw8Nin80uwjL6mDiQPqKhOcvOoL04jsWk3SaOd9nTadJ1SFYqgtSxWYdG1Tp5WC68zGdv"
    "p6cKuSLICB1ZD4qXYvfiFRGKtS8sntwMW7X4F+d/4M2f8vkM85uSORYyxx2+HA/46lEs4fpF3LiHPZIfqt0i0gbKK269Bjqm"
    "gvTCref/k4eNJ32+BetR/HPo2AJv/9Tc8NpSnytl5+n5i6vX1tZqe3QP0fxyGa8GMUTHOFyyQfv6M8cDsiYO7+y4tAqGJWMZ"
    "gXrz5zshdTqwtw51Jth/kn3D4Ty8eZrQuF3jPsX9RZ9MaPaA15C03TXqTA69QbYaCjWCOGSrU9M+OeVh2zwmD6Yl55Q3/b6D"
    "864Y9XmbIfO+ccy8u7nv4d7hXuX9Jvd5TU/xyvaqpr+p4Tc1/LYm39b8yUz66tApgnjFq7qNiKD/SRGc34omX2f+lvKvyX+I"
    "YDyOtgAa8VeYHzCC9tIaPq3h8xp+yQj63zSC+ahp9hR/ScWvyRWv8uVom0HxKl8jmlzxKd9YW8ieMoPlO7JvdHkj/ZN4cUpe"
    "WzYn8n8rPtD2A+//dnzsEmi9zYjCSsiJJIJ4ZKsmgLr/HI4n+LwxfAQhuBblr2qc6CcSEi/pd0t9LdQG8Qj9DAw7/2ZOd46e"
    "JV7K7zvovJr43myjTn7tQ8v7NvsU+e0JjtNR2v0a0ffuH7gCopch/Ud1Ej7id1kAF9PnHWJ/toGe+JvrJ6Re4Prs20G5TfJB"
    "vBk/aFzPC6MAis68LzR8Kz62Y2HaaWkK7X0Kh/eDpLz70Y0uzm/ER3yGqfvQLl9Wdtil/z0rfONb2nsRzr87/uPvjqfn3x3/"
    "6HeHg6Bh+d/Cb8ssno8="))

# a dictionary-encoded column whose dictionary batch is gone: "ArrowKeyError" (a KeyError)
NO_DICTIONARY = zlib.decompress(base64.b64decode(
    "eNqtUztuwkAQfWsvsIpcuKBwJBcIGtrcADo3USSapExIGm6BOAElJSVHoKDgCNyIvB3POmtCEEVGGo93583njcfT2ezl9Qk4"
    "U9YAcnh5QIYuOnB8oxgLS3MgxltD7Qu2IKKLHtE5b+pY0/G+CbWkWtSSUr8Wn8Q7ufXPjOr4dMzgapgZiNc2cb6vvdaDxBTa"
    "WSbxSCxvgAo/EtfIJaaktU3Mm/bmcyZRXKib4m8ZqR2rfYx85iIflKPkHj4X75MVj8ur0KSN43H5MY/8fg6bW3NIrXAat2q3"
    "eVcR7/QK7+QO3nXzp18zusGzJZ4Hmu/SJwcn25NpJ5VyCHu20wzbi7mH5OH+qDbswX/tannnrp6oU/mXvgHjsjPP"))


def _encrypted_npz() -> bytes:
    buf = io.BytesIO()
    np.savez(buf, a=np.arange(3))
    data = bytearray(buf.getvalue())
    for sig, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # general purpose flag: bit 0
        i = data.index(sig)
        data[i + at] |= 1
    return bytes(data)


def test_damaged_arrays_and_arrow_files_are_notes(repo: Path) -> None:
    for name in ("w.npz", "m.feather", "t.feather"):
        write(repo / "data" / name, b"placeholder")
    commit_all(repo, "v1")
    write(repo / "data" / "w.npz", _encrypted_npz())
    write(repo / "data" / "m.feather", HUGE_LENGTH)
    write(repo / "data" / "t.feather", NO_VALUE)
    commit_all(repo, "v2")
    d = out(git("diff", "HEAD~1", "HEAD", cwd=repo))
    assert "+note not a readable npz file: a.npy: File <ZipInfo filename='a.npy'" in d
    assert "is encrypted, password required for extraction" in d
    assert "+note not a readable arrow file: a length in the file asks for more memory than there is" in d
    t = d.split("b/data/t.feather\n", 1)[1]
    # validated first (the next test's fix): its validity bitmap and null count disagree
    assert "+note not a readable arrow file: " in t


def test_an_arrow_file_with_damaged_offsets_is_a_note(repo: Path) -> None:
    import pyarrow as pa
    import pyarrow.feather as pf

    (repo / "data").mkdir()
    pf.write_feather(pa.table({"id": [1, 2]}), repo / "data" / "o.feather")
    commit_all(repo, "v1")
    write(repo / "data" / "o.feather", BAD_OFFSETS)
    commit_all(repo, "v2")
    d = out(git("diff", "HEAD~1", "HEAD", cwd=repo))
    assert "+note not a readable arrow file: In column 7: Invalid: Offset invariant failure" in d
    text = out(mlv("diff", "HEAD~1", "HEAD", "--key", "id", cwd=repo))
    assert "data/o.feather: not readable as a table: In column 7: Invalid: Offset invariant failure" in text


def test_a_decimal_python_cannot_read_is_a_note(repo: Path) -> None:
    # "internal error: InvalidOperation: [<class 'decimal.ConversionSyntax'>]" (an ArithmeticError)
    # in git diff, and in git mlv diff --key where a changed row shows the value
    import decimal

    import pyarrow as pa
    import pyarrow.feather as pf

    (repo / "data").mkdir()
    good = pa.table({"id": [1, 2, 3], "dec": pa.array([decimal.Decimal("1.5")] * 3, pa.decimal128(10, 2))})
    pf.write_feather(good, repo / "data" / "d.feather")
    commit_all(repo, "v1")
    write(repo / "data" / "d.feather", BAD_DECIMAL)
    commit_all(repo, "v2")
    d = out(git("diff", "HEAD~1", "HEAD", cwd=repo))
    assert "+note not a readable arrow file: [<class 'decimal.ConversionSyntax'>]\n" in d
    text = out(mlv("diff", "HEAD~1", "HEAD", "--key", "id", cwd=repo))
    assert "data/d.feather: not readable as a table: [<class 'decimal.ConversionSyntax'>]" in text


def test_an_arrow_file_missing_its_dictionary_is_a_note(repo: Path) -> None:
    # "internal error: ArrowKeyError: No record of dictionary type with id 0" (a KeyError, not an
    # ArrowInvalid) in git diff and in git mlv diff --key
    import pyarrow as pa
    import pyarrow.feather as pf

    (repo / "data").mkdir()
    keys = pa.array(["k0", "k1"]).dictionary_encode()
    pf.write_feather(pa.table({"dic": keys}), repo / "data" / "k.feather")
    commit_all(repo, "v1")
    write(repo / "data" / "k.feather", NO_DICTIONARY)
    commit_all(repo, "v2")
    d = out(git("diff", "HEAD~1", "HEAD", cwd=repo))
    assert "+note not a readable arrow file: No record of dictionary type with id 0\n" in d
    text = out(mlv("diff", "HEAD~1", "HEAD", "--key", "dic", cwd=repo))
    assert "data/k.feather: not readable as a table: No record of dictionary type with id 0" in text
