"""Every service table, importable from one place (Alembic reads `Base.metadata`)."""

from service.db import Base
from service.models.catalog import Product, ProductAlias, ProductGtin, ProductListing
from service.models.floor import ApiToken, Batch, Station, SupervisorSession, User
from service.models.jobs import OutboundJob, StoredSecret
from service.models.office import OfficeAudit, OfficeSession, OfficeUser
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
from service.models.weights import LearnedUnitWeight, ParcelWeight, WeightProfile

__all__ = [
    "ApiToken",
    "Base",
    "Batch",
    "ChangeCounter",
    "ChangeRow",
    "Channel",
    "Label",
    "LearnedUnitWeight",
    "Lease",
    "OfficeAudit",
    "OfficeSession",
    "OfficeUser",
    "Order",
    "OrderEvent",
    "OrderException",
    "OrderLine",
    "OutboundJob",
    "Parcel",
    "ParcelWeight",
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
    "StoredSecret",
    "SupervisorSession",
    "User",
    "WebhookReceipt",
    "WeightProfile",
]
