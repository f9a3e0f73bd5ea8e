"""The HTTP/1.1 request-framing conformance list (issues 24 and 25): raw request bytes, the answer RFC
9112 asks for, and whether the connection closes after it. Both engines answer each the same
(tests/e2e/test_framing.py). Every request goes to ``tests.e2e.apps:early_app``'s ``/read``, which reads
the whole body and answers 200 with its length, so an error in the body's framing is seen too.

Where the RFC leaves a choice (reject or repair), the list rejects, as nginx and Uvicorn (httptools) do:
a repaired request is one that two parsers may read differently (request smuggling, RFC 9112 §11.2).
A head over ``server.max_header_size`` (16 KiB by default) gets 431 (RFC 6585 §5) whatever part is long,
the request line included: the limit is on the head as a whole, as Hypercorn's h11 applies it.
"""

from __future__ import annotations

import attrs

__all__ = ["RULES", "Rule"]

LIMIT = 16384  # server.max_header_size's default


@attrs.frozen
class Rule:
    name: str
    request: bytes
    status: int
    closes: bool
    source: str  # the RFC section that asks for the answer


def _get(*headers: bytes, version: bytes = b"1.1", target: bytes = b"/read") -> bytes:
    return b"GET " + target + b" HTTP/" + version + b"\r\n" + b"".join(h + b"\r\n" for h in headers) + b"\r\n"


def _post(*headers: bytes, body: bytes = b"") -> bytes:
    return b"POST /read HTTP/1.1\r\nHost: test\r\n" + b"".join(h + b"\r\n" for h in headers) + b"\r\n" + body


HOST = b"Host: test"
LONG = b"a" * (LIMIT + 100)

RULES: tuple[Rule, ...] = (
    Rule("a valid request", _get(HOST), 200, False, "RFC 9112 §3"),
    Rule("HTTP/1.0 without Host", _get(version=b"1.0"), 200, True, "RFC 9112 §3.2, §9.3"),
    Rule("HTTP/1.1 without Host", _get(), 400, True, "RFC 9112 §3.2"),
    Rule("two Host fields", _get(HOST, b"Host: other"), 400, True, "RFC 9112 §3.2"),
    Rule("an invalid Host value", _get(b"Host: a b"), 400, True, "RFC 9112 §3.2, RFC 9110 §7.2"),
    Rule("an empty Host value", _get(b"Host:"), 200, False, "RFC 9110 §7.2"),
    Rule("Content-Length and Transfer-Encoding", _post(b"Content-Length: 5", b"Transfer-Encoding: chunked",
                                                       body=b"0\r\n\r\n"), 400, True, "RFC 9112 §6.1, §6.3"),
    Rule("two equal Content-Length fields", _post(b"Content-Length: 1", b"Content-Length: 1", body=b"x"),
         400, True, "RFC 9112 §6.3, RFC 9110 §8.6"),
    Rule("two different Content-Length fields", _post(b"Content-Length: 1", b"Content-Length: 2", body=b"xx"),
         400, True, "RFC 9112 §6.3"),
    Rule("a Content-Length list", _post(b"Content-Length: 1, 1", body=b"x"), 400, True, "RFC 9112 §6.3"),
    Rule("a negative Content-Length", _post(b"Content-Length: -1"), 400, True, "RFC 9110 §8.6"),
    Rule("a signed Content-Length", _post(b"Content-Length: +1", body=b"x"), 400, True, "RFC 9110 §8.6"),
    Rule("Transfer-Encoding not ending in chunked", _post(b"Transfer-Encoding: gzip"), 400, True,
         "RFC 9112 §6.3"),
    Rule("Transfer-Encoding: chunked, gzip", _post(b"Transfer-Encoding: chunked, gzip"), 400, True,
         "RFC 9112 §6.3"),
    Rule("a chunk size over 64 bits", _post(b"Transfer-Encoding: chunked",
                                            body=b"1" + b"0" * 16 + b"\r\nx\r\n0\r\n\r\n"), 400, True, "RFC 9112 §7.1"),
    Rule("a chunk size that is not hex", _post(b"Transfer-Encoding: chunked", body=b"zz\r\nx\r\n0\r\n\r\n"),
         400, True, "RFC 9112 §7.1"),
    Rule("obs-fold", _get(HOST, b"X-A: b", b" c"), 400, True, "RFC 9112 §5.2"),
    Rule("whitespace before the colon", _get(HOST, b"X-A : b"), 400, True, "RFC 9112 §5.1"),
    Rule("a field name that is not a token", _get(HOST, b"X(A: b"), 400, True, "RFC 9110 §5.1"),
    Rule("a NUL in a field value", _get(HOST, b"X-A: b\x00c"), 400, True, "RFC 9110 §5.5"),
    Rule("a control character in a field value", _get(HOST, b"X-A: b\x01c"), 400, True, "RFC 9110 §5.5"),
    Rule("a bare CR in a field value", _get(HOST, b"X-A: b\rc"), 400, True, "RFC 9112 §2.2"),
    Rule("lines ending in a bare LF", b"GET /read HTTP/1.1\nHost: test\n\n", 400, True, "RFC 9112 §2.2"),
    Rule("a request line over the limit", _get(HOST, target=b"/" + LONG), 431, True, "RFC 6585 §5"),
    Rule("a field over the limit", _get(HOST, b"X-A: " + LONG), 431, True, "RFC 6585 §5"),
    Rule("a header block over the limit", _get(HOST, *(b"X-%d: %s" % (i, b"a" * 30) for i in range(LIMIT // 30))),
         431, True, "RFC 6585 §5"),
    Rule("a 1 MiB field", _get(HOST, b"X-A: " + b"a" * (1 << 20)), 431, True, "RFC 6585 §5 (issue 25)"),
)
