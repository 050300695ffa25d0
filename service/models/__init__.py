"""Every service table, importable from one place (Alembic reads `Base.metadata`)."""

from service.db import Base
from service.models.catalog import Product, ProductAlias, ProductGtin, ProductListing
from service.models.floor import ApiToken, Batch, Station, SupervisorSession, User
from service.models.orders import (
    Channel,
    Order,
    OrderEvent,
    OrderException,
    OrderLine,
    WebhookReceipt,
)
from service.models.shipping import Label, Parcel
from service.models.stock import Return, ReturnLine, ReturnUnit, StockBalance, StockMovement
from service.models.sync import ChangeCounter, ChangeRow, Lease, StationMutation

__all__ = [
    "ApiToken",
    "Base",
    "Batch",
    "ChangeCounter",
    "ChangeRow",
    "Channel",
    "Label",
    "Lease",
    "Order",
    "OrderEvent",
    "OrderException",
    "OrderLine",
    "Parcel",
    "Product",
    "ProductAlias",
    "ProductGtin",
    "ProductListing",
    "Return",
    "ReturnLine",
    "ReturnUnit",
    "Station",
    "StationMutation",
    "StockBalance",
    "StockMovement",
    "SupervisorSession",
    "User",
    "WebhookReceipt",
]
