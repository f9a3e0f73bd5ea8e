"""Issue 11: asyncio apps served unchanged, on asyncio (the default) and uvloop, by Hypercorn or Uvicorn (issue 15);
trio apps on trio."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest
import trio

from .cli import running, until_in_flight
from .services import redis_server  # noqa: F401 - fixture

ROOT = str(Path(__file__).resolve().parents[2])


@pytest.mark.parametrize("loop_args", [(), ("--engine", "hypercorn", "--loop", "asyncio"),
                                       ("--engine", "hypercorn", "--loop", "uvloop"),
                                       ("--engine", "uvicorn", "--loop", "asyncio"),
                                       ("--engine", "uvicorn", "--loop", "uvloop")],
                         ids=["default", "hypercorn-asyncio", "hypercorn-uvloop", "uvicorn-asyncio", "uvicorn-uvloop"])
async def test_a_resync_shaped_fastapi_app_serves_and_drains(
    loop_args: tuple[str, ...], redis_server: tuple[int, str], tmp_path: Path  # noqa: F811
) -> None:
    port, password = redis_server
    marks = tmp_path / "marks"
    async with running("--app", "tests.e2e.resync_app:app", "--bind", "127.0.0.1:0", *loop_args,
                       "--management-bind", "127.0.0.1:0", cwd=ROOT,
                       REDIS_URL=f"redis://:{password}@127.0.0.1:{port}/2", RESYNC_TEST_MARKS=str(marks)) as cli:
        url, management = await cli.url(), await cli.management_url()
        engine = "hypercorn" if "hypercorn" in loop_args else "uvicorn"  # the default: Uvicorn on uvloop
        loop = "asyncio" if "asyncio" in loop_args else "uvloop"
        listening = await cli.wait_event("listening")
        assert (listening["engine"], listening["loop"]) == (engine, loop)
        probe = await cli.wait_event("probe_ok", probe="redis")  # probed first, then used by the app
        assert probe["target"] == f"redis://***@127.0.0.1:{port}/2"
        async with httpx.AsyncClient(timeout=10) as client:
            hello = await client.get(url + "/hello")
            first, second = (await client.get(url + "/count")).json(), (await client.get(url + "/count")).json()
            session = (await client.get(url + "/session")).json()
            status = (await client.get(management + "/status")).json()
            assert hello.status_code == 200 and hello.json()["hello"] == "world"
            assert hello.headers["server"].startswith(engine)
            assert second["count"] == first["count"] + 1
            assert session == {"closed": False}
            assert (status["loop"], status["engine"]) == (loop, engine)

            in_flight: list[httpx.Response] = []
            async with trio.open_nursery() as nursery:
                async def slow() -> None:
                    in_flight.append(await client.get(url + "/work"))

                nursery.start_soon(slow)
                await until_in_flight(client, management, 1)
                cli.signal(signal.SIGTERM)
        assert await cli.wait() == 0
    assert in_flight[0].status_code == 200 and in_flight[0].json() == {"done": True}
    assert marks.read_text().splitlines() == ["startup", "shutdown"]
    assert cli.stderr == b""
    assert cli.transitions() == ["validating", "probing", "serving", "draining", "stopped"]


async def test_a_raw_asyncio_handler_answers_200_by_default() -> None:
    """The first fault the issue names: a handler awaiting asyncio.sleep answered 500 on trio."""
    async with running("--app", "tests.e2e.apps:asyncio_app", "--bind", "127.0.0.1:0", cwd=ROOT) as cli:
        url = await cli.url()
        async with httpx.AsyncClient() as client:
            answers = [(await client.get(url + "/")).status_code for _ in range(5)]
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 0
    assert answers == [200] * 5
    listening = await cli.wait_event("listening")  # the default (issue 25): Uvicorn on uvloop, and why
    assert (listening["loop"], listening["engine"]) == ("uvloop", "uvicorn")
    assert listening["loop_source"] == "auto: uvloop is installed" and listening["engine_source"].startswith("auto: ")


async def test_a_trio_app_serves_with_loop_trio() -> None:
    async with running("--app", "tests.e2e.apps:trio_app", "--bind", "127.0.0.1:0", "--loop", "trio",
                       cwd=ROOT) as cli:
        url = await cli.url()
        async with httpx.AsyncClient() as client:
            response = await client.get(url + "/")
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 0
    assert response.status_code == 200 and response.text == "trio"
    listening = await cli.wait_event("listening")  # auto: only Hypercorn serves trio
    assert (listening["loop"], listening["engine"]) == ("trio", "hypercorn")
    assert "trio" in listening["engine_source"]
