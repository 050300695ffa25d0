"""Channels' shipping-method mappings over HTTP: read by operators, changed by admins.

The same functions as `packbench-service channel shipping|set-shipping` (service.channels),
so mapping a method releases the orders held as `carrier_unmapped` for it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body
from pydantic import BaseModel, ConfigDict, Field

from service.api.deps import Admin, DbSession, Operator
from service.channels import (
    carrier_rules_of,
    get_channel,
    packing_slip_of,
    set_carrier_rules,
    set_packing_slip,
    set_shipping,
    shipping_mappings,
)

router = APIRouter(prefix="/v1", tags=["operator"])


class ShippingMappingOut(BaseModel):
    method: str
    carrier: str
    service: str
    priority: int


class ShippingMappingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    method: str = Field(min_length=1, max_length=100, description="the shop's method code or title")
    carrier: str = Field(min_length=1, max_length=40, description="a carrier adapter, e.g. house")
    service: str = Field(default="", max_length=40, description="default: the method")
    priority: int = Field(default=0, ge=0, le=2, description="0 normal, 1 high, 2 express")


class ShippingSetOut(BaseModel):
    mapping: ShippingMappingOut
    released: list[str] = Field(description="orders released from the carrier_unmapped hold")


@router.get("/channels/{name}/shipping", response_model=list[ShippingMappingOut])
def get_shipping(name: str, session: DbSession, _token: Operator) -> list[ShippingMappingOut]:
    """The channel's shipping methods and the carrier service each ships with."""
    return [ShippingMappingOut(**vars(m)) for m in shipping_mappings(get_channel(session, name))]


@router.put("/channels/{name}/shipping", response_model=ShippingSetOut)
def put_shipping(
    name: str, body: ShippingMappingIn, session: DbSession, token: Admin
) -> ShippingSetOut:
    """Map one method (replacing its old mapping); held orders for it are released."""
    session.commit()  # end the token lookup's transaction: the change is one clean unit
    mapping, released = set_shipping(
        session,
        name,
        body.method,
        carrier=body.carrier,
        service=body.service,
        priority=body.priority,
        actor=f"admin:{token.name or token.id}",
    )
    session.commit()
    return ShippingSetOut(mapping=ShippingMappingOut(**vars(mapping)), released=released)


class PackingSlipOut(BaseModel):
    packing_slip: str = Field(description="never | always | cross_border | b2b")
    ship_from_country: str = Field(description="for cross_border: where the parcels leave from")


class PackingSlipIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    packing_slip: str | None = Field(
        default=None, max_length=20, description="never | always | cross_border | b2b"
    )
    ship_from_country: str | None = Field(default=None, max_length=2, description="e.g. RO")


class PackingSlipSetOut(PackingSlipOut):
    resent_orders: int = Field(description="unpacked orders sent to the stations again with it")


@router.get("/channels/{name}/packing-slip", response_model=PackingSlipOut)
def get_packing_slip(name: str, session: DbSession, _token: Operator) -> PackingSlipOut:
    """Which of the channel's orders get a packing slip at the station."""
    policy = packing_slip_of(get_channel(session, name))
    return PackingSlipOut(packing_slip=policy.policy, ship_from_country=policy.ship_from_country)


@router.put("/channels/{name}/packing-slip", response_model=PackingSlipSetOut)
def put_packing_slip(
    name: str, body: PackingSlipIn, session: DbSession, _token: Admin
) -> PackingSlipSetOut:
    """Change the channel's packing-slip setting; its unpacked orders reach stations with it."""
    session.commit()  # end the token lookup's transaction: the change is one clean unit
    policy, resent = set_packing_slip(session, name, body.packing_slip, body.ship_from_country)
    session.commit()
    return PackingSlipSetOut(
        packing_slip=policy.policy,
        ship_from_country=policy.ship_from_country,
        resent_orders=resent,
    )


class CarrierRulesOut(BaseModel):
    rules: list[dict[str, Any]] = Field(description="in order; the first that matches wins")
    fallback: dict[str, str] | None = Field(description="{carrier, service} when none matches")


@router.get("/channels/{name}/carrier-rules", response_model=CarrierRulesOut)
def get_carrier_rules(name: str, session: DbSession, _token: Operator) -> CarrierRulesOut:
    """The channel's carrier rule table (empty rules: the shipping-method mapping chooses)."""
    table = carrier_rules_of(get_channel(session, name)) or {"rules": [], "fallback": None}
    return CarrierRulesOut(rules=table["rules"], fallback=table.get("fallback"))


class CarrierRulesSetOut(CarrierRulesOut):
    released: list[str] = Field(
        description="orders held as carrier_unmapped that the table now places (re-judged)"
    )


@router.put("/channels/{name}/carrier-rules", response_model=CarrierRulesSetOut)
def put_carrier_rules(
    name: str,
    session: DbSession,
    token: Admin,
    body: Any = Body(  # noqa: B008 - FastAPI's way to take any JSON body
        description='{"rules": [...], "fallback": {"carrier", "service"}} (see docs/carriers.md)'
    ),
) -> CarrierRulesSetOut:
    """Replace the table; a fault names the rule and field and changes nothing. Orders
    held as carrier_unmapped that the table now places get its carrier and are re-judged."""
    session.commit()  # end the token lookup's transaction: the change is one clean unit
    table, released = set_carrier_rules(
        session, name, body, actor=f"admin:{token.name or token.id}"
    )
    session.commit()
    return CarrierRulesSetOut(
        rules=table["rules"], fallback=table.get("fallback"), released=released
    )
