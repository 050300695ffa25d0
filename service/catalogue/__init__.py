"""The product catalogue: one validated upsert by SKU behind every way products arrive.

CSV import, the operator API, shop webhooks and the shop catalogue sync all turn their input
into `ProductChange`s (service.catalogue.fields parses and checks single values), and
service.catalogue.store checks them together and writes them; orders held for a product
that now exists are validated again in the same transaction (service.catalogue.revalidate).
"""
