"""The command line: ``run`` (default), ``check``, ``diagram``, ``config``; flags from the table of fields.

``main(argv) -> int`` never exits; ``__main__`` and the console script do.
Hypercorn is imported only by ``run``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from .errors import (
    EX_DIAGRAM,
    EX_INTERRUPTED,
    EX_USAGE,
    ConfigurationValidationError,
    DiagramError,
    UsageError,
    one_line,
)
from .version import __version__

if TYPE_CHECKING:
    from .settings import Settings

__all__ = ["COMMANDS", "build_parser", "flag_values", "main", "main_exit"]

COMMANDS = ("run", "check", "diagram", "config")
_RUN_HELP = """Validate, probe, serve and drain an ASGI service: resync-fsm [run] [APP] [options].

run is the default command; the others:
  resync-fsm check [-- CMD ARGS]   validate and probe, then exit 0, 69 or 78 (or run CMD)
  resync-fsm config [--json]       the effective configuration as TOML, and where each value came from
  resync-fsm diagram [--format F]  draw the lifecycle (mermaid, dot, svg)
  resync-fsm COMMAND --help        that command's options"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: error: {message}")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; with ``command``, only that subcommand gets the settings flags (a faster start)."""
    parser = _Parser(prog="resync-fsm", description="Validate, probe, serve and drain an ASGI service.")
    parser.add_argument("--version", action="version", version=f"resync_fsm {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    run = sub.add_parser("run", help="validate, probe, serve, and drain on SIGTERM (the default)",
                         usage="resync-fsm [run] [APP] [options]", description=_RUN_HELP,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    check = sub.add_parser("check", help="validate and probe, then exit 0, 69 or 78")
    check.add_argument("--json", action="store_true", help="print the results as JSON")
    check.add_argument("cmd", nargs=argparse.REMAINDER, help="-- CMD ARGS: run CMD once the checks pass")
    diagram = sub.add_parser("diagram", help="draw the lifecycle")
    diagram.add_argument("--format", choices=("mermaid", "dot", "svg"), default="mermaid")
    diagram.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    config = sub.add_parser("config", help="print the effective configuration as TOML that --config reads back "
                                           "(secrets masked) and where each value came from")
    config.add_argument("--json", action="store_true", help="print JSON")
    for name, subparser in (("run", run), ("check", check), ("config", config)):
        if command in (None, name):
            from .flags import add_settings_flags

            add_settings_flags(subparser, positional_app=name == "run")
    return parser


def flag_values(args: argparse.Namespace) -> dict[str, Any]:
    """Field path -> value for every settings flag given (Uvicorn's spellings folded in)."""
    from .flags import flag_settings

    return flag_settings(args)[0]


def _load_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    return {"flags": flag_values(args), "config": args.config, "env_file": args.env_file}


def _validated(args: argparse.Namespace) -> tuple[Settings | None, ConfigurationValidationError | None]:
    """The settings, or the error: flags given two ways first, else every problem of every source."""
    from . import startup
    from .flags import flag_error, flag_settings

    problems = flag_settings(args)[1]
    return (None, flag_error(problems)) if problems else startup.validate(_load_kwargs(args))


def _export_env_file(args: argparse.Namespace) -> None:
    """``--env-file``'s variables into ``os.environ`` (the app's, and any process started from here),
    never over the real environment, as Uvicorn's --env-file; nothing of it is logged."""
    if args.env_file:
        from pathlib import Path

        from .settings.sources import Sources, read_dotenv

        found = Sources(environ={}, flags={})
        read_dotenv(Path(args.env_file), found)
        for name, value in found.dotenv.items():
            os.environ.setdefault(name, value)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``; no command means ``run``).

    Returns the exit code (DESIGN §2: 0, 2 usage, 69, 70, 78, 128 + n, 130
    interrupted); never raises SystemExit, never exits.
    """
    from . import signal_buffer

    signal_buffer.install()  # a signal from now on is kept for the runner: no traceback, no silent death
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and argv[0] != "--version"):
        argv.insert(0, "run")  # `resync-fsm main:app`, and `--help` shows run's options
    try:
        args = build_parser(argv[0] if argv[0] in COMMANDS else "").parse_args(argv)
    except UsageError as exc:
        signal_buffer.restore()
        print(exc, file=sys.stderr)
        return EX_USAGE
    except SystemExit as exc:  # --help, --version
        signal_buffer.restore()
        return int(exc.code or 0)
    if args.command != "run" and signal.SIGINT in signal_buffer.restore():
        print("interrupted (Ctrl-C)", file=sys.stderr)
        return EX_INTERRUPTED
    if args.command in ("diagram", "config"):
        try:
            return _diagram(args) if args.command == "diagram" else _config(args)
        except BrokenPipeError:  # `config | head -1`: the reader has what it wanted
            return _reader_gone()
    if args.command == "check":
        try:
            from .check import check

            return check(_validated(args), as_json=args.json, command=args.cmd,
                         before_exec=lambda: _export_env_file(args))
        except BrokenPipeError:
            return _reader_gone()
        except (KeyboardInterrupt, BaseExceptionGroup) as exc:  # trio may wrap it in a group
            if isinstance(exc, BaseExceptionGroup) and exc.subgroup(KeyboardInterrupt) is None:
                raise
            print("check: interrupted (Ctrl-C)", file=sys.stderr)
            return EX_INTERRUPTED
    return _run(args)


def _reader_gone() -> int:
    """stdout's reader went away: point stdout at /dev/null so that the interpreter's final flush
    is quiet too (the Python documentation's advice for SIGPIPE), and end without a traceback."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 0


def main_exit() -> NoReturn:
    """The console script's entry point: ``sys.exit(main())``."""
    sys.exit(main())


def _diagram(args: argparse.Namespace) -> int:
    from .diagram import render

    try:
        text = render(args.format)
    except DiagramError as exc:
        print(f"DiagramError: {exc}", file=sys.stderr)
        return EX_DIAGRAM
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    return 0


def _config(args: argparse.Namespace) -> int:
    from .settings.dump import to_toml

    settings, error = _validated(args)
    if settings is None:
        assert error is not None
        print(error.one_line(), file=sys.stderr)
        return error.exit_code
    if args.json:
        print(json.dumps({"settings": settings.redacted(), "sources": settings.sources}, indent=2))
    else:
        sys.stdout.write(to_toml(settings))
    return 0


def _logging_from(settings: Settings) -> tuple[Settings | None, ConfigurationValidationError | None]:
    """The runner's logging from ``settings``; a ``--log-config`` file the stdlib refuses to apply (a
    handler class that does not exist, a section missing) is a configuration error (78, one line)."""
    from .logs import configure_logging

    try:
        configure_logging(settings.log.level, settings.log.format, config=settings.log.config)
    except Exception as exc:  # dictConfig's ValueError, fileConfig's KeyError, ...: the file is wrong
        configure_logging(settings.log.level, settings.log.format)
        message = one_line(f"{type(exc).__name__}: {exc}")
        problem = {"field": "--log-config (log.config)",
                   "problem": f"the stdlib's logging refused {settings.log.config}: {message}"}
        return None, ConfigurationValidationError(f"1 configuration problem: {problem['field']}: {problem['problem']}",
                                                  {"problems": [problem], "problem_count": 1})
    return settings, None


def _run(args: argparse.Namespace) -> int:
    from . import loops, startup
    from .compat import cleanup_resources
    from .logs import configure_logging
    from .runner import Runner
    from .settings import activation
    from .signal_buffer import Interrupted, ignore, interruptible

    try:
        with interruptible():  # a config from a FIFO or a slow pipe may block: a stop must still stop
            settings, error = _validated(args)
    except Interrupted as exc:
        name = signal.Signals(exc.signum).name
        print(f"Interrupted: {name} while reading the configuration; nothing was started "
              f"(exit {128 + exc.signum})", file=sys.stderr)
        return 128 + exc.signum
    activation.unset(os.environ)  # as sd_listen_fds(1): no child process takes the sockets
    if settings is not None:
        _export_env_file(args)  # before the app is imported and any worker is started
        settings, error = _logging_from(settings)
    else:
        configure_logging()  # the defaults: the settings that would say otherwise are invalid
    runner = Runner(startup.loader(settings, error), cleanup=cleanup_resources, freeze_gc=True)
    code = loops.run(runner.run, settings.server.loop if settings is not None else "trio")
    ignore()  # decided: a late repeated signal must not turn a clean exit into 143
    line = runner.failure_line()
    if line:
        print(line, file=sys.stderr)
    return code
