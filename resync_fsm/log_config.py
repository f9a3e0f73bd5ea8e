"""``--log-config FILE`` (``log.config``): the user's own stdlib logging configuration, as Uvicorn takes it.

JSON and YAML files are :func:`logging.config.dictConfig` mappings, anything else an INI
file for :func:`logging.config.fileConfig`. Validation reads the file (:func:`read_log_config`)
so that a file that does not parse is a configuration error (exit 78) before anything starts;
:func:`~resync_fsm.logs.configure_logging` applies it over the runner's own logging.
"""

from __future__ import annotations

import configparser
from typing import Any

__all__ = ["apply_log_config", "read_log_config"]


def read_log_config(path: str) -> Any:
    """``--log-config FILE`` as Uvicorn reads it: a dict from ``.json``, ``.yaml``/``.yml``, else a
    :class:`configparser.ConfigParser` of an INI file (:func:`logging.config.fileConfig`'s format).

    Raises ``ValueError`` saying what was expected (never quoting the file);
    :func:`apply_log_config` applies it.
    """
    try:
        if path.endswith(".json"):
            import json

            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
        elif path.endswith((".yaml", ".yml")):
            import importlib

            yaml = importlib.import_module("yaml")  # PyYAML, as Uvicorn needs it for YAML
            with open(path, encoding="utf-8") as handle:
                data = yaml.safe_load(handle)
        else:
            parser = configparser.ConfigParser()
            parser.read(path, encoding="utf-8")
            data = parser if parser.has_section("loggers") else None
    except ImportError:
        raise ValueError("a .json or .ini log config: a .yaml one needs PyYAML (pip install pyyaml)") from None
    except Exception:  # json's, yaml's and configparser's errors: the file does not parse
        data = None
    if not (isinstance(data, configparser.ConfigParser) or isinstance(data, dict) and "version" in data):
        raise ValueError("a logging configuration: a dictConfig mapping with its version key (.json, .yaml), "
                         "or an INI file with a [loggers] section (fileConfig)")
    return data


def apply_log_config(path: str) -> None:
    """Apply ``--log-config FILE`` over the runner's logging, as Uvicorn applies it over its own:
    ``dictConfig`` for JSON and YAML, ``fileConfig(disable_existing_loggers=False)`` for INI."""
    import logging.config

    config = read_log_config(path)
    if isinstance(config, dict):
        logging.config.dictConfig(config)
    else:
        logging.config.fileConfig(config, disable_existing_loggers=False)
