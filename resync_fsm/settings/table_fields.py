"""How the settings classes are derived from the table of fields (the cross-field checks: :mod:`.conflicts`).

An attrs ``field_transformer`` (:func:`from_table`) fills each declared attribute in
from the field of the same name: its default, its parser as a converter (so that
construction parses, once, and a bad value is a ``ValueError`` naming the field),
and its repr (secrets hidden, URLs with userinfo masked). The loader hands over
values it already parsed wrapped in :class:`Parsed`, which the converter passes
through (DESIGN §3).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import attrs

from ..errors import Invalid
from ..redaction import MASK, redact_url, register_secret
from .fields import FIELDS, Field
from .sources import blank

__all__ = [
    "Parsed",
    "converter",
    "field_error",
    "from_table",
    "section_fields",
    "shown",
    "table",
    "url_repr",
]


@attrs.frozen
class Parsed:
    """A value the loader already parsed with its field's parser: the converter passes it through."""

    value: Any


def field_error(exc: BaseException) -> str:
    """What a parser's failure means for its field, never quoting the value.

    ``expected ...`` from an :class:`~resync_fsm.errors.Invalid`; any other
    exception from a parser (a bug, or input deep enough for a
    ``RecursionError``) is still this field's problem, not a crash (issue 13).
    """
    if isinstance(exc, Invalid):
        return f"expected {exc.expected}"
    return f"could not be parsed ({type(exc).__name__})"


def table(value: Any) -> Any:  # pragma: no cover - replaced by from_table
    """Placeholder converter: marks an attribute whose parser comes from the table (see :func:`from_table`)."""
    return value


def converter(spec: Field, path: str) -> Callable[[Any], Any]:
    """The attrs converter of ``spec`` (at ``path``): passes :class:`Parsed` through, keeps the
    default, parses anything else and raises ``ValueError(f"{path}: expected ...")``."""

    def convert(value: Any) -> Any:
        if type(value) is Parsed:
            return value.value
        if value is spec.default:
            return value
        if blank(spec, value) or (value is None and spec.default is None and not spec.required):
            return None  # an empty optional value counts as unset (issue 24)
        if spec.secret:
            register_secret(value)
        try:
            return spec.parse(value)
        except Exception as exc:  # every parser failure names the field
            raise ValueError(f"{path}: {field_error(exc)}") from None

    return convert


def url_repr(value: str | None) -> str:
    """The repr of a URL setting: its userinfo masked."""
    return repr(redact_url(value) if value else value)


def from_table(specs: Iterable[Field]) -> Any:
    """An attrs ``field_transformer`` filling each attribute in from the field of the same name."""
    by_key = {spec.key: spec for spec in specs}

    def transform(cls: type, attributes: list[attrs.Attribute[Any]]) -> list[attrs.Attribute[Any]]:
        if [a.name for a in attributes] != list(by_key):
            raise TypeError(f"{cls.__name__} must declare exactly the table's keys, in order: {list(by_key)}")
        out = []
        for a in attributes:
            spec = by_key[a.name]
            path = f"{spec.section}.{spec.key}"
            out.append(a.evolve(
                default=attrs.NOTHING if spec.required else spec.default,
                converter=converter(spec, path),
                repr=False if spec.secret else url_repr if spec.url else True,
            ))
        return out

    return transform


def section_fields(name: str) -> Any:
    """The ``field_transformer`` for the section ``name`` of the table."""
    return from_table(f for f in FIELDS if f.section == name)


def shown(spec: Field, value: Any) -> Any:
    """``value`` as ``config`` and ``/status`` show it: secrets masked, URL userinfo masked."""
    if value is None:
        return None
    if spec.secret:
        return MASK
    if spec.url:
        return redact_url(value)
    return list(value) if isinstance(value, tuple) else value
