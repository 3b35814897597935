"""``git mlv``: parse the command line, call ``ops``, render. No logic lives here.

Each verb is a module ``cli/cmd_<verb>.py`` with ``register(subparsers)``; the parser it adds sets
``func`` to a ``run(args) -> int`` function.
"""

from __future__ import annotations

import atexit
import importlib
import os
import sys
import threading
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    import argparse

from .. import __version__
from ..core import gclock
from ..errors import MlvError

# verb modules, in the order --help lists them
COMMANDS = [
    "install", "track", "add", "status", "ls_files", "diff", "checkout", "fsck", "du", "gc", "prune",
    "remote", "push", "fetch", "pull",
    "run", "stage", "repro", "dag", "metrics", "params", "plots", "migrate", "get", "import", "update",
    "help",
    "filter_process", "textconv", "merge_driver", "hook",
]


# plumbing git runs on its own, often once per command (hooks, the filter, textconv per diffed
# file): only that verb's module is loaded. Building every verb's parser cost ~90 ms of a ~200 ms
# post-checkout hook (cProfile, 5,000-file repository), paid on every `git checkout`.
PLUMBING = {"hook": "hook", "filter-process": "filter_process", "clean": "filter_process",
            "smudge": "filter_process", "textconv": "textconv", "merge-driver": "merge_driver"}
# Every verb and the module that registers it: a command names its verb first, and only that
# module is imported and only its parser built. All of them cost ~0.1 s of a ~0.15 s `git mlv
# --version` (the verb modules' imports 85-110 ms, their parsers 15-25 ms), paid by every command
# a user or a script runs. The full parser is built for `--help`, `help`, and a word that is no
# verb (argparse lists the choices). tests/unit/test_cli_verbs.py keeps this map whole.
VERBS = {**{m.replace("_", "-"): m for m in COMMANDS}, "uninstall": "install", "untrack": "track",
         **PLUMBING}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser: every registered verb, or only module ``cmd_<only>``."""
    from .intermixed import Parser

    parser = Parser(
        prog="git mlv",
        description="Version machine-learning data and models inside git.",
    )
    parser.add_argument("--version", action="version", version=f"git-mlv {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    for name in [only] if only else COMMANDS:
        try:
            mod = importlib.import_module(f".cmd_{name}", __package__)
        except ModuleNotFoundError as e:
            if e.name and e.name.endswith(f"cmd_{name}"):
                continue  # verb not built yet
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``git-mlv`` console script."""
    # git up to 2.39 runs a submodule's checkout (`checkout --recurse-submodules`,
    # submodule.recurse) as `git --super-prefix=SUB/ read-tree`, which hands its filter this
    # variable; every git command we start would then refuse with "rev-parse doesn't support
    # --super-prefix", and the submodule's checkout failed. It only names a prefix for git's output.
    os.environ.pop("GIT_INTERNAL_SUPER_PREFIX", None)
    if argv is None and len(sys.argv) > 1 and sys.argv[1] in PLUMBING:
        _exit_now(_main(sys.argv[1:]))
    if argv is not None:
        return _main(argv)
    _one_interrupt()
    code = _main(sys.argv[1:])
    if _SIGINTS:  # the interpreter's teardown resets SIGINT's handler: another copy would kill us
        _exit_now(code)
    return code


def _say_lock_wait() -> None:
    print("git-mlv: waiting for another git-mlv command (gc, prune or fsck --repair) to finish "
          "with the pool", file=sys.stderr, flush=True)


def _exit_now(code: int) -> NoReturn:
    """End a process git waits for without the interpreter's teardown.

    git waits for the long-running filter when its command ends and for every hook, and freeing the
    interpreter's modules (numpy's above all) cost ~60 ms of CPU per process, 0.25 s of wall time
    on a loaded machine (the filter's stdin closed -> exit, measured; docs/design-notes.md). Our
    writes are committed (fsynced, renamed) before this point; what teardown still does that
    matters is done first, in its order: wait for threads (and run the thread pools' exit hooks),
    run atexit functions (weakref finalizers: temporary folders), flush stdout and stderr.
    """
    try:
        shutdown = getattr(threading, "_shutdown", None)
        if shutdown is not None:
            shutdown()
        run = getattr(atexit, "_run_exitfuncs", None)
        if run is not None:
            run()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # a closed or broken pipe: nothing left to say
                pass
    finally:
        os._exit(code)


def _direct(argv: list[str]) -> argparse.Namespace | None:
    """The arguments of an invocation git makes often and always in one shape (the filter, a hook),
    without building a parser: argparse and its regular expressions cost ~20 ms of a ~75 ms hook
    (python -X importtime). None: parse as usual."""
    from types import SimpleNamespace

    if argv == ["filter-process"]:
        from .cmd_filter_process import run_process

        return SimpleNamespace(func=run_process, verbose=False)  # type: ignore[return-value]
    if len(argv) >= 2 and argv[0] == "hook":
        from .cmd_hook import HOOKS, run

        if argv[1] in HOOKS and not any(a.startswith("-") for a in argv[2:]):
            return SimpleNamespace(func=run, verbose=False, name=argv[1],  # type: ignore[return-value]
                                   hook_args=argv[2:])
    return None


def _prog_of(parser: argparse.ArgumentParser, argv: list[str]) -> str:
    """The deepest (sub)command ``argv`` names, for a usage error: `git mlv remote list extra` was
    called an error of `git mlv remote`, whose --help does not list list's options."""
    from .intermixed import subcommands

    prog = "git mlv"
    words = [w for w in argv if not w.startswith("-")]
    for w in words:
        subs = subcommands(parser)
        if subs is None or w not in subs.choices:
            break
        parser = subs.choices[w]
        prog = parser.prog
    return prog


def _unknown_verb(word: str) -> str:
    """One line for a word that is no verb, with the verbs it looks like (as git does)."""
    import difflib

    if word in _GIT_WORDS:  # a habit from git, DVC or git-lfs: say what does it here
        return f"git-mlv: error: {word!r} is not a git-mlv verb: {_GIT_WORDS[word]}"
    close = difflib.get_close_matches(word, [v for v in VERBS if v not in PLUMBING], n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return f"git-mlv: error: {word!r} is not a git-mlv verb{hint} (`git mlv --help` lists them)"


_GIT_WORDS = {
    "version": "`git mlv --version`",
    "init": "`git init` makes the repository; `git mlv install` (once per machine) and `git mlv "
            "track PATTERN` route data through git-mlv",
    "clone": "`git clone URL`: the data comes with the checkout",
    "commit": "`git commit`: the data of tracked files goes into the pool with it",
    "ls": "`git mlv ls-files`",
    "log": "`git log`",
}


_SIGINTS: list[float] = []  # when the first SIGINT came (_one_interrupt)


def _one_interrupt() -> None:
    """Make one Ctrl-C one interruption. A terminal sends SIGINT to git and to us, and git sends
    its own copy to the command it started: the second one landed while the first was being
    handled (a thread pool shutting down, the interpreter's teardown) and printed a traceback
    after "git-mlv: interrupted" (1 run in 10 of `timeout -s INT 2.5 git mlv pull`). A SIGINT
    within a second of the first is now taken as the same Ctrl-C; a later one ends the process
    at once (what the pool holds stays readable, as after kill -9). Plumbing (the filter, hooks)
    is left as it was."""
    import signal
    import time

    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return  # ignored (a background job) or someone else's handler: theirs to keep

    def on_sigint(signum: int, frame: object) -> None:
        if not _SIGINTS:
            _SIGINTS.append(time.monotonic())
            raise KeyboardInterrupt
        if time.monotonic() - _SIGINTS[0] > 1.0:
            os._exit(130)

    signal.signal(signal.SIGINT, on_sigint)


# plumbing that reads what git sends on stdin, and what a person who typed it wants instead
_READS_STDIN = {
    "clean": "git runs it with a file's content on stdin; to free disk space, `git mlv gc` "
             "(data nothing refers to) or `git mlv prune` (data a remote holds)",
    "smudge": "git runs it with a pointer on stdin; `git mlv checkout` writes the data of files",
    "filter-process": "git runs it as its long-running filter; `git mlv status` shows the files",
    "hook pre-push": "git runs it with the refs being pushed on stdin; `git mlv push` uploads data",
}


def _typed_plumbing(argv: list[str]) -> str | None:
    """One line for plumbing that reads stdin, typed at a terminal: `git mlv clean` (read as `git
    clean`) waited for input without a word, and Ctrl-D stored an empty file's pointer."""
    what = " ".join(argv[:2]) if argv[:1] == ["hook"] else argv[0]
    if what not in _READS_STDIN or "-h" in argv or "--help" in argv:
        return None
    try:
        if not os.isatty(0):
            return None
    except OSError:
        return None
    return (f"git-mlv: error: `git mlv {what}` is plumbing: {_READS_STDIN[what]} (stdin is a "
            "terminal here)")


def _main(argv: list[str]) -> int:
    if argv and argv[0] not in VERBS and not argv[0].startswith("-"):
        print(_unknown_verb(argv[0]), file=sys.stderr)
        return 2
    typed = _typed_plumbing(argv) if argv and argv[0] in PLUMBING else None
    if typed:
        print(typed, file=sys.stderr)
        return 2
    args = _direct(argv) if argv and argv[0] in PLUMBING else None
    if args is None:
        from .intermixed import Parser, usage_hint

        parser = build_parser(VERBS.get(argv[0]) if argv else None)
        Parser.words = argv
        args, extra = parser.parse_known_args(argv)
        if extra:  # named with the verb they were given to, not as the root parser's
            prog = _prog_of(parser, argv)
            hint = usage_hint(prog, argv)
            if {"-v", "--verbose"} & set(extra):  # `git mlv push -v`: the root's option, misplaced
                hint = (f"-v (show tracebacks) is git mlv's own option, before the verb: `git mlv -v "
                        f"{prog.removeprefix('git mlv ')} ...`")
            print(f"git-mlv: error: {prog}: unrecognized arguments: {' '.join(extra)}; {hint}",
                  file=sys.stderr)
            return 2
        if not getattr(args, "func", None):
            # no verb: the usage and exit 1, as `git` alone does (it prints to stdout too); a
            # script that runs `git mlv` with an empty variable must not take it for success
            parser.print_help()
            return 1 if not argv else 2
    gclock.on_lock_wait = _say_lock_wait
    try:
        return int(args.func(args) or 0)
    except MlvError as e:
        print(f"git-mlv: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("git-mlv: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as e:  # a bug: say so plainly, the traceback with --verbose
        if args.verbose or os.environ.get("MLV_DEBUG"):
            raise
        from ..core.fsutil import fs_error  # not at start-up: hooks and the filter start often

        # disk full, permissions... an expected condition raised where no path was known to name
        err = fs_error(e) if isinstance(e, OSError) else None
        if err is not None:
            print(f"git-mlv: error: {err}", file=sys.stderr)
            return err.exit_code
        print(f"git-mlv: internal error: {type(e).__name__}: {e} (rerun with -v for details)",
              file=sys.stderr)
        return 70


if __name__ == "__main__":
    sys.exit(main())
