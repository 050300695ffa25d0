"""Request bodies that a route reads itself, still described in the OpenAPI document.

A route that takes its body as a parameter (`body: PushRequest`) has FastAPI read, decode and
validate it inside its dependency solving; for the push, the service's most frequent
request, that machinery cost ~150,000 instructions of ~3.6M (bench/push_cost.py
--instructions). Such a route reads the body itself (`Model.model_validate_json`) and
declares it with `openapi_extra=documented_body(Model)`; `add_documented_bodies` puts the
model's schema where that reference points.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

_REF = "#/components/schemas/{model}"
_MODELS: dict[str, type[BaseModel]] = {}


def documented_body(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` for a route whose JSON body is `model`, read by the route itself."""
    _MODELS[model.__name__] = model
    schema = {"$ref": _REF.format(model=model.__name__)}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def add_documented_bodies(app: FastAPI) -> None:
    """Make `app.openapi()` include the schemas of every documented_body model."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for name, model in _MODELS.items():
            schema = model.model_json_schema(ref_template=_REF)
            for sub_name, sub_schema in schema.pop("$defs", {}).items():
                schemas.setdefault(sub_name, sub_schema)
            schemas.setdefault(name, schema)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
