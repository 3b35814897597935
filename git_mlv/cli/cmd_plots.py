"""``git mlv plots``: an image (PNG by default) with each metric across revisions."""

from __future__ import annotations

import errno
import math
import os
import sys
from typing import Any

from ..errors import MlvError


def register(sub: Any) -> None:
    """Add the ``plots`` verb."""
    p = sub.add_parser("plots", help="draw each metric across revisions (an image, PNG by default)",
                       description="One panel per numeric metric, revisions along the x axis; with "
                                   "--file, one panel per column of a table file (a training log), "
                                   "one line per revision. Needs matplotlib (pip install "
                                   "'git-mlv[plots]').")
    p.add_argument("revs", nargs="*", metavar="REV",
                   help="revisions (default: every tag; with --file, then the work tree)")
    p.add_argument("-T", "--all-tags", action="store_true", help="every tag, oldest first")
    p.add_argument("-a", "--all-branches", action="store_true", help="every branch")
    p.add_argument("-m", "--metric", dest="metrics", action="append", metavar="NAME",
                   help="only this metric (repeatable; the column name `metrics show` prints)")
    p.add_argument("-o", "--output", default="plots.png", metavar="FILE",
                   help="image to write, its format from its extension: .png (default plots.png), .svg, "
                   ".pdf, .jpg ...")
    p.add_argument("--file", metavar="PATH",
                   help="draw this table file (CSV, TSV, JSON or YAML records: a training log) instead: "
                        "one panel per column, one line per revision")
    p.add_argument("-x", metavar="COLUMN",
                   help="with --file: the column along the x axis (default: the first, when numeric; "
                        "else the row number)")
    p.set_defaults(func=run)


_LABELS = 10


def draw(path: str, revs: list[str], series: dict[str, list[float | None]]) -> None:
    """Write an image grid: one line chart per series over ``revs``, atomically, in the format
    ``path``'s extension names (PNG without one). Before, `-o out.jpg` wrote PNG bytes under a
    .jpg name, and `-o out.svg` a PNG too."""
    plt, ext = _pyplot(path)
    n = len(series)
    cols = min(3, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.5 * cols, 3.2 * rows), squeeze=False)
    xs = list(range(len(revs)))
    # at most _LABELS revisions named along an axis (the last one always): 500 tags drawn as
    # 500 overlapping labels took ~10 s a figure and could not be read
    ticks = xs[::max(1, math.ceil(len(xs) / _LABELS))]
    if ticks and ticks[-1] != xs[-1]:
        ticks.append(xs[-1])
    for ax, (name, ys) in zip(axes.flat, series.items()):
        pts = [(x, y) for x, y in zip(xs, ys) if y is not None]
        ax.plot([x for x, _ in pts], [y for _, y in pts], marker="o" if len(xs) <= _LABELS else None)
        ax.set_title(name, fontsize=10)
        ax.set_xticks(ticks)
        ax.set_xticklabels([revs[i] for i in ticks], rotation=30, ha="right", fontsize=8)
        ax.grid(True, alpha=0.3)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    _save(plt, fig, path, ext)


def _pyplot(path: str) -> tuple[Any, str]:
    """matplotlib.pyplot on the Agg backend, and the format ``path``'s extension names."""
    try:
        import matplotlib
    except ModuleNotFoundError:
        raise MlvError("plots need matplotlib: pip install 'git-mlv[plots]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backend_bases import FigureCanvasBase

    ext = os.path.splitext(path)[1].lower().lstrip(".") or "png"
    kinds = FigureCanvasBase.get_supported_filetypes()
    if ext not in kinds:
        from ..errors import UsageError

        raise UsageError(f"cannot draw into a .{ext} file; give --output one of "
                         + ", ".join(f".{k}" for k in sorted(kinds)))
    return plt, ext


def draw_curves(path: str, xname: str, panels: dict[str, dict[str, list[tuple[float, float]]]]) -> None:
    """Write an image: one chart per column of ``panels`` (column -> revision -> points), one line
    per revision, atomically, as ``draw`` does."""
    plt, ext = _pyplot(path)
    n = len(panels)
    cols = min(3, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.5 * cols, 3.2 * rows), squeeze=False)
    for ax, (name, lines) in zip(axes.flat, panels.items()):
        for rev, pts in lines.items():
            ax.plot([x for x, _ in pts], [y for _, y in pts], label=rev,
                    marker="o" if len(pts) <= _LABELS else None)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel(xname, fontsize=8)
        ax.legend(fontsize=7)
        ax.grid(True, alpha=0.3)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    _save(plt, fig, path, ext)


def _save(plt: Any, fig: Any, path: str, ext: str) -> None:
    """``fig`` written to ``path`` atomically (a temporary file beside it, then renamed)."""
    fig.tight_layout()
    tmp = os.path.join(os.path.dirname(os.path.abspath(path)), f".{os.path.basename(path)}.tmp")
    try:
        fig.savefig(tmp, format=ext, dpi=100)
        os.replace(tmp, path)
    except OSError as e:
        raise _write_error(e, path) from None
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.unlink(tmp)


def _write_error(e: OSError, path: str) -> MlvError:
    """The FileSystemError (exit 6) naming ``path``, not the temporary file beside it, and what to do."""
    from ..core.fsutil import FileSystemError, fs_error  # not at start-up: every verb imports this module

    err = fs_error(e, path)
    if err is not None:
        return err
    folder = os.path.dirname(os.path.abspath(path))
    if e.errno in (errno.ENOENT, errno.ENOTDIR) and not os.path.isdir(folder):
        return FileSystemError(f"no folder {folder} to write {path} in; create it or choose another "
                               "--output")
    if e.errno == errno.EISDIR:
        return FileSystemError(f"{path} is a folder; give --output a file name (say {path}/plots.png)")
    return FileSystemError(f"cannot write {path} ({e.strerror or e}); choose another --output")


def run(args: Any) -> int:
    """Collect the metrics and draw them."""
    from ..ops import pipeline
    from ..ops.context import Workspace
    from ..pipeline.readers import is_number

    if args.file is not None:
        return run_file(args)
    if args.x is not None:
        from ..errors import UsageError

        raise UsageError("-x goes with --file (the column of a table file along the x axis)")
    with Workspace.discover() as ws:
        all_tags = args.all_tags or not (args.revs or args.all_branches)
        t = pipeline.metrics_show(ws, args.revs, all_tags, args.all_branches)
    for err in t.errors:  # as `metrics show` says: a file left out of the plot is not silent
        print(f"git-mlv: warning: {err}", file=sys.stderr)
    names = t.column_names()
    rows = t.rows()
    series = {}
    for i, name in enumerate(names, start=1):
        ys = [r[i] if is_number(r[i]) else None for r in rows]
        if (not args.metrics or name in args.metrics) and any(y is not None for y in ys):
            series[name] = ys
    if args.metrics:
        unknown = sorted(set(args.metrics) - set(series))
        if unknown:
            raise MlvError(f"no numeric metric named {unknown[0]!r} (metrics: {', '.join(names) or 'none'})")
    if not series:
        raise MlvError("no numeric metrics at those revisions; define some with `git mlv run -M FILE`")
    draw(args.output, t.revs, series)
    print(f"Wrote {args.output} ({len(series)} metric(s) over {len(t.revs)} revision(s))")
    return 0


def run_file(args: Any) -> int:
    """Draw a table file's columns, one line per revision."""
    from ..ops import pipeline
    from ..ops.context import Workspace

    with Workspace.discover() as ws:
        t = pipeline.plot_rows(ws, args.file, args.revs, args.all_tags, args.all_branches)
    if not t.rows:  # one line: the first revision's parse error, else where the file is not
        more = f" (and at {len(t.errors) - 1} more revision(s))" if len(t.errors) > 1 else ""
        raise MlvError(t.errors[0] + more if t.errors else f"{args.file}: no such file at "
                       f"{', '.join(t.revs)}")
    for err in t.errors:
        print(f"git-mlv: warning: {err}", file=sys.stderr)
    if t.absent:
        print(f"git-mlv: warning: {args.file}: no such file at {', '.join(t.absent)}", file=sys.stderr)
    xname, panels = pipeline.curves(t.rows, args.x, args.metrics)
    if not panels:
        raise MlvError(f"{args.file} has no numeric column to draw against {xname!r}")
    draw_curves(args.output, xname, panels)
    print(f"Wrote {args.output} ({len(panels)} column(s) of {args.file} over {len(t.rows)} revision(s))")
    return 0

