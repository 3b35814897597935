"""cli/render.py: the table and progress bar the CLI draws (tabulate and tqdm underneath)."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
import textwrap

from git_mlv.cli.render import table


def test_table_keeps_cells_as_they_are() -> None:
    out = io.StringIO()
    table([("* main", "s3://b/p", 12), ("  other", None, "0.50"), ("x", "a  b", "-2")],
          ["NAME", "URL", "N"], out=out)
    assert out.getvalue() == textwrap.dedent("""\
        NAME     URL       N
        -------  --------  ----
        * main   s3://b/p  12
          other            0.50
        x        a  b      -2
        """)  # leading spaces kept, numbers as written (left), None empty, no trailing spaces


def test_table_of_no_rows_and_of_empty_rows() -> None:
    out = io.StringIO()
    table([], ["path", "size"], out=out)
    assert out.getvalue() == "path  size\n----  ----\n"
    out = io.StringIO()
    table([("a", "b"), ("", None)], ["h", "i"], out=out)
    assert out.getvalue() == "h  i\n-  -\na  b\n\n"  # the empty row is still a line


def _drawn(columns: int) -> str:
    """What Progress draws on a terminal of ``columns`` columns (0: a pty nobody sized)."""
    code = ("from git_mlv.cli.render import Progress\n"
            "p = Progress('push')\n"
            "for done in (0, 40 << 20, 100 << 20): p(done, 100 << 20)\n"
            "q = Progress('Rewriting', unit='commits')\n"
            "for done in (1, 7): q(done, 7)\n"
            "Progress('quiet', quiet=True)(1, 2)\n")
    main, tty = pty.openpty()
    if columns:
        subprocess.run(["stty", "cols", str(columns), "rows", "30"], stdin=tty, check=True)
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=tty, env={**os.environ, "TERM": "xterm"})
    os.close(tty)
    chunks = []
    while True:
        try:
            data = os.read(main, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait()
    os.close(main)
    return b"".join(chunks).decode(errors="replace").replace("\r", "\n")


def test_progress_draws_on_a_terminal_sized_or_not() -> None:
    for columns in (100, 0):
        text = _drawn(columns)
        assert "push: 100%" in text and "100M/100M" in text, (columns, text)
        assert "Rewriting: 100%" in text and "7/7" in text, (columns, text)
        assert "quiet" not in text, text


def test_progress_is_silent_when_stderr_is_not_a_terminal() -> None:
    code = "from git_mlv.cli.render import Progress\nProgress('push')(5, 10)\nProgress('push')(10, 10)\n"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True)
    assert proc.returncode == 0 and proc.stderr == b""
