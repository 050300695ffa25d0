"""The console's catalogue work: CSV import (preview, then all or nothing) and product edits.

The CSV goes through the same reader and checks as `packbench-service product import`
(service.catalogue.csv_file and .store). A preview runs the whole import inside a
transaction and rolls it back, so it shows exactly what applying would do; applying runs it
again and commits only if the file still has no problem. A product edit is refused, with
what changed, when someone changed the product after the form was loaded.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import zlib
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from service.api.deps import DbSession
from service.catalogue.csv_file import COLUMN_HELP, read_catalogue
from service.catalogue.fields import (
    FieldError,
    parse_dimensions,
    parse_gtin,
    parse_name,
    parse_weight,
    split_codes,
)
from service.catalogue.store import (
    Problem,
    ProductChange,
    UpsertReport,
    apply_changes,
    check_changes,
)
from service.errors import NotFound
from service.models import Product
from service.office.sessions import SignedIn, audit
from service.web.auth import PREFIX, AdminAction, OperatorAction, Viewer
from service.web.i18n import N_
from service.web.render import page

router = APIRouter(prefix=PREFIX, include_in_schema=False)

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_CARRIED = 900_000  # the apply form carries the file packed; Starlette caps a field at 1 MB


def _pack(data: bytes) -> str:
    return base64.b64encode(zlib.compress(data, 9)).decode()


def _unpack(text: str) -> bytes | None:
    try:
        return zlib.decompress(base64.b64decode(text, validate=True))
    except (binascii.Error, zlib.error, ValueError):
        return None


def _run(session: Session, data: bytes, who: SignedIn) -> tuple[list[Problem], UpsertReport | None]:
    """The import as `product import` does it (no --skip-bad-rows): problems, or its report."""
    parsed = read_catalogue(data)
    problems = list(parsed.problems)
    if not parsed.file_unusable:
        problems.extend(check_changes(session, parsed.changes))
    problems.sort(key=lambda p: (p.row or 0, p.field or ""))
    if problems:
        return problems, None
    return [], apply_changes(session, parsed.changes, actor=who.actor)


def _import_page(
    request: Request,
    who: SignedIn,
    *,
    status_code: int = 200,
    **context: Any,
) -> Response:
    return page(
        request,
        "catalogue_import.html",
        who,
        status_code=status_code,
        columns=COLUMN_HELP,
        **{"problems": [], "report": None, "name": "", "carried": "", "digest": "", **context},
    )


@router.get("/catalogue/import")
def import_page(request: Request, who: Viewer) -> Response:
    """The upload form, with the columns a catalogue CSV may have."""
    return _import_page(request, who)


@router.post("/catalogue/import")
async def preview(
    request: Request,
    session: DbSession,
    who: AdminAction,
    file: Annotated[UploadFile, File()],
) -> Response:
    """Check the file and show what importing it would do; nothing is stored."""
    data = await file.read(MAX_FILE_BYTES + 1)
    name = (file.filename or "catalogue.csv")[:100]
    if len(data) > MAX_FILE_BYTES:
        message = N_(
            "The file is over 10 MB: split it, or use %(command)s.",
            command="`packbench-service product import`",
        )
        return _import_page(request, who, status_code=413, error=message, name=name)
    if not data.strip():
        return _import_page(
            request, who, status_code=422, error=N_("The file is empty: choose the CSV."), name=name
        )
    try:
        problems, report = _run(session, data, who)
    finally:
        session.rollback()  # a preview stores nothing
    carried = _pack(data) if not problems else ""
    error = ""
    if carried and len(carried) > MAX_CARRIED:
        carried = ""
        error = N_(
            "The file is too large to apply from the console after its preview; "
            "import it with %(command)s on the server.",
            command="`packbench-service product import`",
        )
    return _import_page(
        request,
        who,
        status_code=422 if problems else 200,
        problems=problems,
        report=report,
        name=name,
        carried=carried,
        digest=hashlib.sha256(data).hexdigest(),
        error=error,
    )


@router.post("/catalogue/apply")
def apply(
    request: Request,
    session: DbSession,
    who: AdminAction,
    carried: Annotated[str, Form(max_length=MAX_CARRIED)],
    digest: Annotated[str, Form(max_length=64)],
    name: Annotated[str, Form(max_length=100)] = "catalogue.csv",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Import the previewed file: every row, or (if anything is wrong now) none."""
    data = _unpack(carried)
    if data is None or hashlib.sha256(data).hexdigest() != digest:
        return _import_page(
            request,
            who,
            status_code=422,
            error=N_("The previewed file did not arrive intact; upload it again."),
        )
    problems, report = _run(session, data, who)
    if problems or report is None:
        session.rollback()
        return _import_page(
            request,
            who,
            status_code=409,
            problems=problems,
            name=name,
            error=N_(
                "The catalogue changed since the preview and the file no longer fits; "
                "nothing was imported. Fix the rows below and upload it again."
            ),
        )
    audit(
        session,
        who,
        "catalogue_import",
        target=name,
        reason=reason.strip(),
        details={
            "sha256": digest,
            "created": len(report.created),
            "updated": len(report.updated),
            "unchanged": len(report.unchanged),
            "released_orders": report.released,
        },
    )
    session.commit()
    return _import_page(request, who, report=report, name=name, applied=True)


# -- one product --------------------------------------------------------------------------


def _state(product: Product) -> dict[str, Any]:
    """What the edit form shows of a product: compared to detect someone else's change."""
    return {
        "name": product.name,
        "gtins": sorted(g.gtin14 for g in product.gtins),
        "weight": _weight_text(product),
        "dimensions": _size_text(product),
        "active": product.active,
    }


def _weight_text(product: Product) -> str:
    return f"{product.weight_grams} g" if product.weight_grams is not None else ""


def _size_text(product: Product) -> str:
    sizes = (product.length_mm, product.width_mm, product.height_mm)
    return "x".join(str(v) for v in sizes) + " mm" if None not in sizes else ""


def _product(session: Session, product_id: int) -> Product:
    product = session.get(Product, product_id)
    if product is None:
        raise NotFound(N_("No product %(id)s.", id=product_id))
    return product


def _edit_page(
    request: Request,
    session: Session,
    who: SignedIn,
    product_id: int,
    *,
    status_code: int = 200,
    typed: dict[str, Any] | None = None,
    **context: Any,
) -> Response:
    session.rollback()  # what is committed now
    product = _product(session, product_id)
    state = _state(product)
    form = typed or {**state, "gtins": " ".join(state["gtins"])}
    return page(
        request,
        "product.html",
        who,
        status_code=status_code,
        product=product,
        form=form,
        seen=json.dumps(state, sort_keys=True),
        done=request.query_params.get("done") == "1",
        **{"error": "", "changed": [], **context},
    )


@router.get("/products/{product_id}")
def product_page(request: Request, session: DbSession, who: Viewer, product_id: int) -> Response:
    """One product, and (for operators) the form to edit it."""
    return _edit_page(request, session, who, product_id)


@router.post("/products/{product_id}")
def edit_product(
    request: Request,
    session: DbSession,
    who: OperatorAction,
    product_id: int,
    seen: Annotated[str, Form(max_length=20_000)],
    name: Annotated[str, Form(max_length=300)] = "",
    gtins: Annotated[str, Form(max_length=2000)] = "",
    weight: Annotated[str, Form(max_length=40)] = "",
    dimensions: Annotated[str, Form(max_length=60)] = "",
    active: Annotated[bool, Form()] = False,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Save name, barcodes, weight, dimensions and active, unless the product changed since."""
    typed = {
        "name": name,
        "gtins": gtins,
        "weight": weight,
        "dimensions": dimensions,
        "active": active,
    }
    product = session.get(Product, product_id, with_for_update=True)
    if product is None:
        raise NotFound(N_("No product %(id)s.", id=product_id))
    now = _state(product)
    try:
        before = json.loads(seen)
    except ValueError:
        before = {}
    if before != now:
        changed = [
            (key, before.get(key), value) for key, value in now.items() if before.get(key) != value
        ]
        return _edit_page(
            request,
            session,
            who,
            product_id,
            status_code=409,
            typed=typed,
            changed=changed,
            error=N_(
                "Product %(sku)s was not saved: someone changed it after you opened "
                "it (see below). Look at it again, then save.",
                sku=product.sku,
            ),
        )
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key, parse in (
        ("name", lambda: {"name": parse_name(name)}),
        ("gtins", lambda: {"gtins": [parse_gtin(c) for c in split_codes(gtins)]}),
        ("weight", lambda: {"weight_grams": parse_weight(weight)}),
        (
            "dimensions",
            lambda: dict(
                zip(
                    ("length_mm", "width_mm", "height_mm"),
                    parse_dimensions(dimensions) or (None, None, None),
                    strict=True,
                )
            ),
        ),
    ):
        try:
            values.update(parse())
        except FieldError as exc:
            problems.append(f"{key}: {exc.message}")
    values["active"] = active
    change = ProductChange(sku=product.sku, values=values, label="this form")
    if not problems:
        problems.extend(str(p) for p in check_changes(session, [change]))
    if problems:
        return _edit_page(
            request,
            session,
            who,
            product_id,
            status_code=422,
            typed=typed,
            error=N_("Nothing was saved: %(problems)s", problems=" ".join(problems)),
        )
    report = apply_changes(session, [change], actor=who.actor)
    after = _state(product)
    audit(
        session,
        who,
        "product_edit",
        target=product.sku,
        reason=reason.strip(),
        details={
            "changed": {k: [now[k], after[k]] for k in after if now[k] != after[k]},
            "released_orders": report.released,
        },
    )
    session.commit()
    return RedirectResponse(f"{PREFIX}/products/{product_id}?done=1", status_code=303)
