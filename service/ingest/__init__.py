"""Order ingestion: storefront adapters map into one NormalisedOrder; store.py upserts it.

Each source has its own adapter module (shopify, woocommerce, operator, csv_import) that
turns the source's payload into `NormalisedOrder`; nothing downstream knows the source.
"""
