"""A route that reads its own body still describes it in the OpenAPI document."""

from __future__ import annotations

from typing import Any

from service.api.app import create_app
from sync.protocol import PushRequest


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def test_the_push_body_is_documented_and_every_reference_resolves() -> None:
    document = create_app("sqlite://").openapi()
    operation = document["paths"]["/v1/sync/push"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/PushRequest"}
    schemas = document["components"]["schemas"]
    assert set(schemas["PushRequest"]["properties"]) == set(PushRequest.model_fields)
    for ref in _refs(document):
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.removeprefix("#/components/schemas/") in schemas, ref
