"""The app under test as the tests call it: one token per role and scope."""

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.auth.schemas import Role
from tac_api.auth.service import create_client
from tests.support.bodies import child_body, mother_body

# Who is who in the tests: each role, in each of two scopes.
CLIENTS = {
    "admin": (Role.admin, None, None),
    "ewi_worker": (Role.prison_social_worker, "EWI", None),
    "sdi_worker": (Role.prison_social_worker, "SDI", None),
    "bristol": (Role.la_practitioner, None, "801"),
    "bristol_system": (Role.la_system, None, "801"),
    "surrey": (Role.la_practitioner, None, "936"),
    "ewi_governor": (Role.governor, "EWI", None),
    "auditor": (Role.auditor, None, None),
    "sar_service": (Role.subject_access, None, None),
    "monitoring": (Role.monitoring, None, None),
}


async def add_clients(session: AsyncSession, clients: dict[str, Any] = CLIENTS) -> dict[str, str]:
    """An API key for each of the tests' clients (name: (role, prison, authority)), added in the
    session's transaction: their tokens, by name."""
    tokens = {}
    for name, (role, prison, authority) in clients.items():
        _, tokens[name] = await create_client(
            session, name=name, role=role, prison_code=prison, local_authority_code=authority
        )
    return tokens


@dataclass
class Api:
    """The app under test, with a token per role and scope."""

    client: TestClient
    tokens: dict[str, str]
    database_url: str

    def headers(self, who: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}", **extra}

    def get(self, who: str, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, headers=self.headers(who), **kwargs)

    def post(
        self, who: str, url: str, json: Any, if_match: str | None = None, **kwargs: Any
    ) -> Any:
        extra = {"If-Match": if_match} if if_match is not None else {}
        return self.client.post(url, headers=self.headers(who, **extra), json=json, **kwargs)

    def patch(self, who: str, url: str, json: Any, if_match: str | None = None) -> Any:
        extra = {"If-Match": if_match} if if_match is not None else {}
        return self.client.patch(url, headers=self.headers(who, **extra), json=json)

    def put(self, who: str, url: str, json: Any, **conditions: str) -> Any:
        """`if_match="..."`, `if_none_match="*"`: sent as those headers."""
        extra = {name.replace("_", "-").title(): value for name, value in conditions.items()}
        return self.client.put(url, headers=self.headers(who, **extra), json=json)

    def delete(self, who: str, url: str, if_match: str | None = None) -> Any:
        extra = {"If-Match": if_match} if if_match is not None else {}
        return self.client.delete(url, headers=self.headers(who, **extra))

    def sql(self, statement: str, **params: Any) -> list[Any]:
        """Look at the database directly, to prove what was (or was not) written."""

        async def query() -> list[Any]:
            async with self.client.app.state.engine.begin() as connection:  # type: ignore[attr-defined]
                result = await connection.execute(text(statement), params)
                return list(result.all()) if result.returns_rows else []

        return self.client.portal.call(query)  # type: ignore[union-attr]

    # Factories: build through the API, as a client would.
    def mother(self, who: str = "admin", **fields: Any) -> dict[str, Any]:
        response = self.post(who, "/v1/mothers", mother_body(**fields))
        assert response.status_code == 201, response.text
        return response.json()

    def child(self, mother_id: str, who: str = "admin", **fields: Any) -> dict[str, Any]:
        response = self.post(who, f"/v1/mothers/{mother_id}/children", child_body(**fields))
        assert response.status_code == 201, response.text
        return response.json()
