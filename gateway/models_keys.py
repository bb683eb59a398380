"""Request and response bodies of the key endpoints (`/v1/keys`): a key as listed, as created
(its secret shown once), what may be asked for, and an ingest key's sensor scope."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from gateway.keys import name_problem
from gateway.models import T0, example


class KeyScopeModel(BaseModel):
    """The sensors an ingest key may post for: every part given must hold."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"prefix": "yp-wp-", "subdistrict": "yinhang"}]},
    )

    sensors: list[str] | None = Field(
        default=None, description="Exactly these sensor ids (not with prefix)"
    )
    prefix: str | None = Field(default=None, description="Sensor ids starting with this")
    domain: str | None = Field(
        default=None, description="Sensors of this domain (the URL's and the registered type's)"
    )
    subdistrict: str | None = Field(
        default=None, description="Sensors in this subdistrict (the URL's and the registered one)"
    )


class KeyOut(BaseModel):
    model_config = example(
        {
            "id": "3f9a0c12d4e5",
            "name": "yinhang water meters",
            "role": "ingest",
            "created_at": T0,
            "revoked_at": None,
            "last_used_at": T0,
            "scope": {"sensors": None, "prefix": "yp-wp-", "domain": None, "subdistrict": None},
            "unbound": False,
            "posts_for": "sensors yp-wp-*",
        }
    )

    id: str
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    scope: KeyScopeModel | None = Field(description="An ingest key's sensors; null: any")
    unbound: bool = Field(description="An ingest key that may post for any sensor")
    posts_for: str | None = Field(
        description="Which sensors the key may post readings for, in words; null: none"
    )


class KeyCreated(KeyOut):
    secret: str = Field(description="The key to send; shown only this once")


class KeyRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "yinhang water meters", "role": "ingest", "scope": {"prefix": "yp-wp-"}},
                {"name": "nb-iot-platform", "role": "ingest", "unbound": True},
            ]
        },
    )

    name: str = Field(
        min_length=1,
        max_length=100,
        description="Who or what holds it: printable text, no control or bidi characters, no "
        "white space at either end",
    )
    role: str = Field(pattern="^(viewer|operator|admin|ingest)$")
    scope: KeyScopeModel | None = Field(
        default=None, description="Role ingest: the sensors it may post for"
    )
    unbound: bool = Field(
        default=False,
        description="Role ingest: may post for any sensor (an IoT platform's key); said "
        "explicitly, as an ingest key needs a scope otherwise",
    )

    @field_validator("name")
    @classmethod
    def _printable(cls, name: str) -> str:
        problem = name_problem(name)
        if problem is not None:
            raise PydanticCustomError("printable", problem)
        return name
