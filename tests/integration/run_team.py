"""People and definitions for the run tests: every name carries the test's tag, because the
dev server (and its visibility listings) is shared by the whole session."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.integration.api_client import Api
from tests.integration.eventually import assert_eventually

YAML = {"content-type": "application/yaml"}


@dataclass
class Team:
    """root (admin), otto (operator), ada and ben (members), carl (member of the reviewers)."""

    api: Api
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def name(self, base: str) -> str:
        """A name of this test alone."""
        return f"{base}-{self.tag}"

    @property
    def reviewers(self) -> str:
        return self.name("reviewers")

    async def sign_in_everyone(self) -> None:
        """Create the team and sign everyone in."""
        for person, role, groups in (
            ("root", "admin", []),
            ("otto", "operator", []),
            ("ada", "member", []),
            ("ben", "member", []),
            ("carl", "member", [self.reviewers]),
        ):
            await self.api.add_user(self.name(person), role=role, groups=groups)
            self.headers[person] = await self.api.token(self.name(person))

    async def upload(self, text: str, who: str = "root") -> dict[str, Any]:
        """Upload a definition (its `name` gets the tag); the stored version."""
        response = await self.api.http.post(
            "/api/v1/definitions", content=text.replace("{tag}", self.tag), headers=self.headers[who] | YAML
        )
        assert response.status_code in (200, 201), response.text
        body: dict[str, Any] = response.json()
        return body

    async def start(self, who: str, body: dict[str, Any], key: str | None = None) -> httpx.Response:
        """POST /runs as `who`."""
        headers = self.headers[who] | ({"Idempotency-Key": key} if key else {})
        return await self.api.http.post("/api/v1/runs", json=body, headers=headers)

    async def started(self, who: str, body: dict[str, Any]) -> str:
        """The id of a run `who` starts."""
        response = await self.start(who, body)
        assert response.status_code == 201, response.text
        run_id: str = response.json()["id"]
        return run_id

    async def get(self, who: str, path: str, **params: Any) -> httpx.Response:
        return await self.api.http.get(f"/api/v1{path}", params=params, headers=self.headers[who])

    async def post(self, who: str, path: str, body: Any = None, key: str | None = None) -> httpx.Response:
        headers = self.headers[who] | ({"Idempotency-Key": key} if key else {})
        return await self.api.http.post(f"/api/v1{path}", json=body, headers=headers)

    async def run_when(self, run_id: str, holds: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The run as root sees it, once `holds` is true of it."""
        seen: dict[str, Any] = {}

        async def check() -> None:
            response = await self.get("root", f"/runs/{run_id}")
            assert response.status_code == 200, response.text
            seen.update(response.json())
            assert holds(seen), seen

        await assert_eventually(check)
        return seen

    async def eventually(self, check: Callable[[], Awaitable[None]]) -> None:
        await assert_eventually(check)
