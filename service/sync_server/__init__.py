"""Server side of sync protocol v1: enrolment, claims and leases, push, pull, checksum.

The HTTP layer (`service.api.sync`) only parses requests and renders answers; every rule of
the protocol lives here, on plain SQLAlchemy sessions, so it can be tested without HTTP.
"""
