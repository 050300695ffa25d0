"""Products, their GTINs and aliases, and which shop listings they came from."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, UTCDateTime, utcnow


class Product(Base):
    """A sellable item. `sku` is stored normalised (upper case, no surrounding space)."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    weight_grams: Mapped[int | None] = mapped_column(Integer)
    length_mm: Mapped[int | None] = mapped_column(Integer)
    width_mm: Mapped[int | None] = mapped_column(Integer)
    height_mm: Mapped[int | None] = mapped_column(Integer)
    serial_required: Mapped[bool] = mapped_column(Boolean, default=False)
    # A regular expression a captured serial must match in full (None: any serial).
    serial_pattern: Mapped[str | None] = mapped_column(String(200))
    image_url: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    gtins: Mapped[list[ProductGtin]] = relationship(
        back_populates="product", cascade="all, delete-orphan", lazy="selectin"
    )
    aliases: Mapped[list[ProductAlias]] = relationship(
        back_populates="product", cascade="all, delete-orphan", lazy="selectin"
    )


class ProductGtin(Base):
    """A GTIN of a product, stored as GTIN-14 so every length matches the same row."""

    __tablename__ = "product_gtins"

    gtin14: Mapped[str] = mapped_column(String(14), primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    product: Mapped[Product] = relationship(back_populates="gtins")


class ProductAlias(Base):
    """Another code a product is known by (supplier code, old SKU)."""

    __tablename__ = "product_aliases"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    product: Mapped[Product] = relationship(back_populates="aliases")


class ProductListing(Base):
    """A shop's product (Shopify product id, WooCommerce product id) that gave us a SKU.

    Shops delete by their own id, never by SKU: this is how a delete finds our products.
    """

    __tablename__ = "product_listings"
    __table_args__ = (
        UniqueConstraint("channel_id", "shop_product_id", "product_id", name="uq_product_listing"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    shop_product_id: Mapped[str] = mapped_column(String(64))
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
