"""A FastAPI app answering what it knows of its own URL, under ``--root-path`` (tests/e2e/test_root_path.py)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request

app = FastAPI()


@app.get("/users/{uid}", name="user")
async def user(uid: str, request: Request) -> dict[str, Any]:
    return {"url": str(request.url), "url_for": str(request.url_for("user", uid=uid)),
            "path": request.scope["path"], "root_path": request.scope["root_path"], "uid": uid}

