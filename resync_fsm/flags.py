"""The settings flags of ``run``, ``check`` and ``config``: generated from the table of fields, grouped by
section, each metavar saying what it takes; and Uvicorn's spellings of the same settings.

Uvicorn's habits (issue 22): the app as the first positional argument (``server.app``, as ``--app``),
``--host``/``--port`` making one bind (Uvicorn's defaults 127.0.0.1 and 8000), ``--uds PATH`` and
``--fd N`` as the ``unix:`` and ``fd://`` binds. An address given two ways (``--bind`` and ``--port``),
or the app two ways, is a configuration error (78): :func:`flag_settings` returns it as a problem.
"""

from __future__ import annotations

import argparse
from typing import Any

from .errors import ConfigurationValidationError
from .settings.fields import FIELDS, SECTIONS, Field
from .settings.parsers import metavar_of

__all__ = ["add_settings_flags", "flag_error", "flag_settings"]

_TITLES = {"server": "serving", "startup": "start-up (probes)", "log": "logging", "tls": "TLS",
           "access_log": "access log"}
_ADDRESS = ("server.bind",)


def _port(text: str) -> int:
    if text.isascii() and text.isdigit() and int(text) <= 65535:
        return int(text)
    raise argparse.ArgumentTypeError("expected a port from 0 to 65535")


def _descriptor(text: str) -> int:
    if text.isascii() and text.isdigit():
        return int(text)
    raise argparse.ArgumentTypeError("expected a file descriptor number")


def _flag_kwargs(spec: Field) -> dict[str, Any]:
    kw: dict[str, Any] = {"dest": spec.path, "default": None, "help": spec.help}
    if spec.flag_negative:  # says what it turns off, then what the setting means
        kw.update(action="store_const", const=False,
                  help=f"Turn off {spec.path} (on by default): {spec.help[0].lower()}{spec.help[1:]}")
    elif spec.default is False or spec.default is True:
        kw.update(action="store_const", const=True)
    elif spec.repeatable:
        kw.update(action="append", metavar=metavar_of(spec.parse), help=f"{spec.help} Repeatable.")
    else:
        kw.update(metavar=metavar_of(spec.parse))
    return kw


def add_settings_flags(parser: argparse.ArgumentParser, *, positional_app: bool = False) -> None:
    """Add every settings flag to ``parser``, one group per section; with ``positional_app``, ``APP`` too."""
    sources = parser.add_argument_group("sources (flags override the environment, which overrides .env, then TOML)")
    sources.add_argument("--config", metavar="FILE",
                         help="TOML file (default: $RESYNC_FSM_CONFIG, else ./resync_fsm.toml)")
    sources.add_argument("--env-file", metavar="FILE",
                         help=".env file: feeds these settings and the app's os.environ; never overrides "
                              "the real environment")
    if positional_app:
        parser.add_argument("app_positional", nargs="?", metavar="APP",
                            help="the ASGI app as module:attribute (the same setting as --app), as Uvicorn takes it")
    address = parser.add_argument_group(
        "address (one way: --bind, repeatable, or --host/--port, --uds or --fd, as Uvicorn takes them)")
    groups = {section: parser.add_argument_group(_TITLES.get(section, section)) for section in SECTIONS}
    for spec in FIELDS:
        if spec.flag is not None:
            group = address if spec.path in _ADDRESS else groups[spec.section]
            group.add_argument(spec.flag, **_flag_kwargs(spec))
    address.add_argument("--host", metavar="HOST", help="Bind to this host (Uvicorn's; with --port, default "
                                                        "127.0.0.1): the same as --bind HOST:PORT.")
    address.add_argument("--port", metavar="INT", type=_port,
                         help="Bind to this port (Uvicorn's; default 8000; 0 picks a free one).")
    address.add_argument("--uds", metavar="PATH", help="Bind to this unix socket: the same as --bind unix:PATH.")
    address.add_argument("--fd", metavar="INT", type=_descriptor,
                         help="Serve on this inherited listening socket: the same as --bind fd://N.")


def _binds(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """The binds the address flags give, and which spellings gave them."""
    ways: list[tuple[str, list[str]]] = []
    if getattr(args, "server.bind", None):
        ways.append(("--bind", list(getattr(args, "server.bind"))))
    if args.host is not None or args.port is not None:
        host = "127.0.0.1" if args.host is None else args.host.strip()
        host = f"[{host}]" if ":" in host and not host.startswith("[") else host
        ways.append(("--host/--port", [f"{host}:{8000 if args.port is None else args.port}"]))
    if args.uds is not None:
        ways.append(("--uds", [f"unix:{args.uds}"]))
    if args.fd is not None:
        ways.append(("--fd", [f"fd://{args.fd}"]))
    return [bind for _, binds in ways for bind in binds], [name for name, _ in ways]


def flag_settings(args: argparse.Namespace) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Field path -> value for every settings flag given, and the problems of flags given two ways."""
    flags = {spec.path: getattr(args, spec.path) for spec in FIELDS
             if spec.flag and getattr(args, spec.path, None) is not None}
    problems: list[tuple[str, str]] = []
    if not hasattr(args, "host"):
        return flags, problems
    binds, ways = _binds(args)
    if len(ways) > 1:
        problems.append((", ".join(ways), "the address is given two ways: give every address with --bind "
                                          "(repeatable: --bind 0.0.0.0:8000 --bind unix:/run/app.sock), or "
                                          "one of --host/--port, --uds, --fd"))
    elif binds:
        flags["server.bind"] = binds
    positional = getattr(args, "app_positional", None)
    if positional is not None:
        if flags.get("server.app", positional) != positional:
            problems.append(("APP, --app", "the app is given two ways: give it once, as APP or as --app"))
        flags["server.app"] = positional
    return flags, problems


def flag_error(problems: list[tuple[str, str]]) -> ConfigurationValidationError:
    """The configuration error (exit 78) for flags given two ways: found before any other source is read."""
    listed = [{"field": name, "problem": message} for name, message in problems]
    count = f"{len(problems)} configuration problem{'s' if len(problems) != 1 else ''}"
    text = "; ".join(f"{item['field']}: {item['problem']}" for item in listed)
    return ConfigurationValidationError(f"{count}: {text}", {"problems": listed, "problem_count": len(problems)})
