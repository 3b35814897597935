"""A reader in native code that dies on a damaged file must cost a note, not the diff.

pyarrow throws a C++ exception past its bindings on some damaged Parquet footers (here one byte of
a column chunk's metadata changed: "terminate called after throwing an instance of
'parquet::ParquetException'"), which aborts the process: `git mlv textconv` died of SIGABRT and
`git diff` stopped ("external diff died", exit 128). Tables, columnar files and arrays are now read
by a forked child (ops/summarycache.py); when it dies, the summary is the file's size and sha256
with a note, and it is not kept in the summary cache (a later pyarrow may read the file).
"""

from __future__ import annotations

import base64
import zlib
from pathlib import Path

from tests.helpers import commit_all, git, out, write

# pyarrow's Parquet of a 100-row table (int64, double, string), one footer byte set to 7
ABORTS = zlib.decompress(base64.b64decode(
    "eNq91l9MW1UcB/Bzu/bSsnYU9NZzR52dwrXDwtrSv6zbOOVfgQJt9weYOscKwiYyhEkXHwwPi9nDEvfgw0yWyAMPM0Pck1Ff"
    "xBhjzZLFBx808cEHX4wx2aMmPvg991wK7SXRveyGT3/n/znt+bUhxwohxapsOZUv5axSlhTSRMiaTIhLIpLLTiywD6xgAxnq"
    "wA4OqIf94AQXHIAGcEMjNMFT8DQo4IFngIIKB6EZvPAsHILnwAeH4Xl4AVqgFTR4EfxwBNrgJQhAO3TAUQhCCMLQCRGIQgzi"
    "kICky27tIg6JHHPUWUkKLcfhBJyEbmCQhh7ohT7ohwHIwCAMwTBkYQRGYQxykIcCnILTcAbOwjhMwCScg5fhFXgVzsNrcAGm"
    "XPbURSKeohEVwq/poRTgwa3Iiuyl9u1OajcKxEP8e7Q2NuJl+lFxH0JZkuqaV1cvdPvpgRvXL349lzh068Z0+uOJjts3X//m"
    "92sn1m7N9bZ9OHr3g8vfXv7i/P3b8/33fl74/M7Cd3/8/e7W2mImcPD98vrS9/NdH/1w9+rQJ+c+/Wlj5cGf73z16/1rTn5Q"
    "Pa2uV6dVWCLWRyddDaTbIZLIbSQHNZLAZ1x6i3HZfuOSA8bl/s+LJV1wDEzXin1XcfG4WzcPaRF6ROgVoU+EfhEGRMiIMCjC"
    "kAjDImRFGBFhVIQxEXIOt55M2JVs8Ya8y7e7Wqiunqqunq6unqmunq2ujldXJ3jVvzrRrd/91kT3nrmz3VnJklWeO+bWJ5w7"
    "dxzKjzu589DqltAelGwkBGHohAhEIQZxSEg2mrRgYChok0kIwtAJEZtsjVqkFhJDJQ4Jm2xLoduEhqN8hdqeTjPaqY+s7YmY"
    "0Yg+srYnakaj+sjanpgZjekja3viZjSuj6ztSZjRhD6ytidpRpP6SJQiybheSuivyT1yLEb8lmSSSsEnm0JqNkqovFycm3lz"
    "SpHR0FpHLZemiVLfaqHSClGcPC63kqyX/2CWJdWrpjTixcwokd0qH6xY0O7ZbPBsOrTfZM3+eL+1agCJTBQL/9F2I6SOyKqG"
    "d45evk+9sY+0UtnmL7v2S4P2mePxvpf/sY9ze59lsU95v+c9h7auaptNVXdjWsbzj0WtrORZb8Nkze7ZaCaqlzpZoTA23iU+"
    "XrphOcqf5CzDk2fiGWasxNKzrJ+xWdajd7F0mrERXuhhbFBv2IlMdKVL2yWxVM8yX1qfW9AbJ3fGs0qxWBLjUenjpVAOk3hb"
    "fkQ/zwDbfTSjmJnk5xvkS6ZnjfZZvkienw9TiqzX2KGvMm9QXyRTux6fPzD/BtPfT4nPz4hGccZdI48T6lucWnrr7Zmr7cXF"
    "xfappaUrJd/KzNLypSsLvnCsI9gRUlNISvFHHuCblcM/av8C9nOoHg=="
))


def test_a_reader_that_aborts_is_a_note_and_the_diff_goes_on(repo: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    (repo / "data").mkdir()
    pq.write_table(pa.table({"id": [1, 2], "v": [0.5, 1.5]}), repo / "data" / "t.parquet")
    commit_all(repo, "v1")
    write(repo / "data" / "t.parquet", ABORTS)
    commit_all(repo, "v2")
    res = git("diff", "HEAD~1", "HEAD", cwd=repo, check=False)
    d = res.stdout.decode()
    assert res.returncode == 0, res.stderr
    assert "-rows 2" in d and "+note not a readable parquet file: " in d, d
    assert b"terminate called" not in res.stderr, res.stderr
    again = out(git("diff", "HEAD~1", "HEAD", cwd=repo))  # not kept: read (and noted) again
    assert again == d
    summaries = repo / ".git" / "mlv" / "summaries"
    kept = [p.name for p in summaries.rglob("*") if p.is_file()] if summaries.exists() else []
    assert len(kept) == 1, kept  # v1's table only
