"""Damaged files found by fuzzing `git mlv textconv` (real git): each stopped git diff with an
internal error (exit 70; git diff exit 128, "unable to read files to diff"). An .npz member whose
flags say "encrypted" (zipfile raises RuntimeError), an Arrow file whose damaged length asks for
exabytes ("ArrowMemoryError: malloc of size 3438715874601639232 failed"), and an Arrow file whose
timestamp column says it has values but yields none ("TypeError: unsupported operand type(s) for
divmod(): 'NoneType' and 'int'"). The Arrow files are the fuzzer's own (bytes of a 2-row file of
a nanosecond timestamp and a duration, mutated), kept as they are."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np

from tests.helpers import commit_all, git, out, write

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
    assert "+ts min -\n" in t and "+ts max -\n" in t
