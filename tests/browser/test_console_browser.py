"""The console in a real Chromium (Debian's chromium + chromium-driver through Selenium),
against a real `packbench-service serve` on PostgreSQL.

Set PACKBENCH_SCREENSHOTS=<dir> to also save a 1366x768 screenshot of each page there
(docs/screenshots is made that way; the test never compares them).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import make_engine, make_sessionmaker
from service.lifecycle import OrderStatus, transition
from service.models import Batch, Label, Order, Parcel, Product
from service.sync_server.enrollment import issue_enroll_code
from sync import client as station_sync
from sync import clock
from sync.protocol import Heartbeat
from tests.conftest import pg_url
from tests.integration.console.conftest import held_for_address
from tests.support import factories
from tests.support.pg_schema import schema_url, scratch_schema
from tests.support.service_process import ServiceProcess, child_env, run_cli

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

CHROMIUM = shutil.which("chromium")
DRIVER = shutil.which("chromedriver")
PASSWORD = "a long enough password"
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1366,768",
]

if not (CHROMIUM and DRIVER):
    pytest.skip(
        "chromium and chromium-driver are not installed (apt-get install chromium "
        "chromium-driver; ./dev does it)",
        allow_module_level=True,
    )
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
from selenium.webdriver.common.by import By  # noqa: E402


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[ServiceProcess, str]]:
    base = pg_url()
    if base is None:
        pytest.skip("PostgreSQL not configured (PACKBENCH_TEST_PG_URL unset)")
    with scratch_schema(base, "console") as schema:
        url = schema_url(base, schema)
        env = child_env(tmp_path / "keyring.json", url)
        assert run_cli("db", "upgrade", env=env).returncode == 0
        add = run_cli(
            "office-user", "add", "--email", "boss@example.com", "--name", "Ada Boss",
            "--role", "admin", env=env, input=PASSWORD + "\n",
        )  # fmt: skip
        assert add.returncode == 0, add.stderr
        assert "admin Ada Boss" in add.stdout and PASSWORD not in add.stdout
        with ServiceProcess(url, env, tmp_path / "service.log") as proc:
            yield proc, url


def _seed(url: str) -> tuple[dict[str, int], str]:
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as s, s.begin():
            held = factories.order(s, status="pending")
            held.ship_postcode, held.ship_name = "1011", "Jane Doe"
            s.flush()
            held_for_address(s, held)
            packed = factories.order(s, status="packed", carrier="house")
            s.add(
                Parcel(
                    order_id=packed.id,
                    box_no=1,
                    status="closed",
                    weight_grams=640,
                    tracking_number="HOUSE000123",
                )
            )
            s.add(
                Label(
                    order_id=packed.id,
                    carrier="house",
                    tracking_number="HOUSE000123",
                    format="zpl",
                    content=b"^XA^XZ",
                    weight_min_grams=0,
                    weight_max_grams=1000,
                    status="printed",
                )
            )
            other = factories.order(s, status="pending")
            other.ship_name, other.ship_street1, other.ship_country = "Piet Jansen", "", "NL"
            other.ship_postcode, other.ship_city = "1011 AB", "Amsterdam"
            s.flush()
            held_for_address(s, other)
            for n in range(3):
                confirmed = factories.order(s, status="confirmed")
                confirmed.channel_order_name = f"#10{n + 40}"
            _bench, code = issue_enroll_code(s, "bench-07")
            s.add(
                Product(
                    sku="MUG-BLU-350",
                    name="Mug, blue, 350 ml",
                    weight_grams=320,
                    length_mm=120,
                    width_mm=90,
                    height_mm=100,
                    active=True,
                )
            )
            channel = factories.channel(s, "test-shop")
            channel.settings = {
                "shipping_methods": {
                    "Standard": {"carrier": "house", "service": "standard", "priority": 0}
                }
            }
            return {"held": held.id, "packed": packed.id}, code
    finally:
        engine.dispose()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(DRIVER))
    driver.set_window_size(1366, 768)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


def _shot(driver: object, name: str) -> None:
    where = os.environ.get("PACKBENCH_SCREENSHOTS")
    if where:
        Path(where).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(where) / f"console-{name}.png"))  # type: ignore[attr-defined]


def _wait(driver: object, ready: Callable[[], bool], seconds: float = 10) -> None:
    """Until `ready()` holds (the page after a click may not have loaded yet)."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.wait import WebDriverWait

    # An element read while the next page replaces it is stale: look again.
    wait = WebDriverWait(driver, seconds, ignored_exceptions=(StaleElementReferenceException,))  # type: ignore[arg-type]
    wait.until(lambda _d: ready())


def _navigate(driver: object, act: Callable[[], object], seconds: float = 15) -> None:
    """Do `act` (a form submit or a link click), then wait until the next page has replaced
    this one. Without it, an element read at once may be the old page's (the same `h1` or
    `p.done`), and goes stale under the reader as the new page loads."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.wait import WebDriverWait

    # A mark on this page's window: a new document comes with a new window object.
    driver.execute_script("window.__packbenchOldPage = true")  # type: ignore[attr-defined]
    act()
    script = "return !window.__packbenchOldPage && document.readyState === 'complete'"
    # While the next page loads, the driver may refuse the script in several ways.
    wait = WebDriverWait(driver, seconds, ignored_exceptions=(WebDriverException,))  # type: ignore[type-var]
    wait.until(lambda d: bool(d.execute_script(script)))


def _batch_numbers(url: str, code: str) -> list[str]:
    engine = make_engine(url)
    try:
        with Session(engine) as s:
            return list(
                s.scalars(
                    select(Order.number)
                    .join(Batch, Batch.id == Order.batch_id)
                    .where(Batch.code == code)
                )
            )
    finally:
        engine.dispose()


def _status(url: str, order_id: int) -> str:
    engine = make_engine(url)
    try:
        with Session(engine) as s:
            order = s.get(Order, order_id)
            assert order is not None
            return order.status
    finally:
        engine.dispose()


def test_sign_in_find_fix_release_close_the_day_and_download_the_manifest(
    service: tuple[ServiceProcess, str], browser: object
) -> None:
    proc, url = service
    ids, code = _seed(url)
    # The packing station enrols with the service the way `packbench enroll` does.
    station_sync.enroll(proc.base_url, code)
    d = browser
    d.get(f"{proc.base_url}/console/orders")  # type: ignore[attr-defined]
    assert "/console/sign-in" in d.current_url  # type: ignore[attr-defined]
    _shot(d, "sign-in")
    d.find_element(By.NAME, "email").send_keys("boss@example.com")  # type: ignore[attr-defined]
    _navigate(d, lambda: d.find_element(By.NAME, "password").send_keys(PASSWORD + "\n"))  # type: ignore[attr-defined]
    assert d.find_element(By.TAG_NAME, "h1").text == "Orders"  # type: ignore[attr-defined]
    _shot(d, "orders")

    # Find the packed order by its tracking number.
    box = d.find_element(By.NAME, "q")  # type: ignore[attr-defined]
    box.clear()
    _navigate(d, lambda: box.send_keys("HOUSE000123\n"))
    _wait(d, lambda: "q=HOUSE000123" in d.current_url)  # type: ignore[attr-defined]
    rows = d.find_elements(By.CSS_SELECTOR, "tbody tr")  # type: ignore[attr-defined]
    assert len(rows) == 1 and "packed" in rows[0].text
    _navigate(d, lambda: rows[0].find_element(By.TAG_NAME, "a").click())
    assert "HOUSE000123" in d.find_element(By.TAG_NAME, "main").text  # type: ignore[attr-defined]

    # Fix the held order's postcode: it is released.
    d.get(f"{proc.base_url}/console/orders/{ids['held']}")  # type: ignore[attr-defined]
    assert "is not valid for DE" in d.page_source  # type: ignore[attr-defined]
    _shot(d, "order")
    # Held for its address: the address form is open already.
    form = d.find_element(By.CSS_SELECTOR, "form.address")  # type: ignore[attr-defined]
    assert form.is_displayed()
    d.execute_script("arguments[0].scrollIntoView()", form)  # type: ignore[attr-defined]
    _shot(d, "order-address")
    postcode = d.find_element(By.CSS_SELECTOR, "form.address input[name=postcode]")  # type: ignore[attr-defined]
    postcode.clear()
    postcode.send_keys("10115")
    reason = d.find_element(By.CSS_SELECTOR, "form.address input[name=reason]")  # type: ignore[attr-defined]
    _navigate(d, lambda: reason.send_keys("customer sent the right postcode\n"))
    done = d.find_element(By.CSS_SELECTOR, "p.done").text  # type: ignore[attr-defined]
    assert done == "The address was saved and re-validated."
    assert d.find_element(By.CSS_SELECTOR, "h1 .status").text == "confirmed"  # type: ignore[attr-defined]
    assert _status(url, ids["held"]) == "confirmed"
    timeline = d.find_element(By.CSS_SELECTOR, "ol.timeline")  # type: ignore[attr-defined]
    assert "postcode: “1011” → “10115”" in timeline.text
    d.execute_script("arguments[0].scrollIntoView()", timeline)  # type: ignore[attr-defined]
    _shot(d, "order-history")

    # Prepare a batch of the confirmed orders and give it to a station by name.
    d.get(f"{proc.base_url}/console/batches")  # type: ignore[attr-defined]
    _navigate(d, lambda: d.find_element(By.XPATH, "//button[.='Make batches']").click())  # type: ignore[attr-defined]
    assert d.find_element(By.CSS_SELECTOR, "p.done").text == "1 batch made."  # type: ignore[attr-defined]
    _navigate(d, lambda: d.find_element(By.XPATH, "//button[.='Assign']").click())  # type: ignore[attr-defined]
    _wait(d, lambda: "bench-07" in d.find_element(By.CSS_SELECTOR, "tbody tr").text)  # type: ignore[attr-defined]
    row = d.find_element(By.CSS_SELECTOR, "tbody tr")  # type: ignore[attr-defined]
    # The three confirmed orders and the one released above.
    assert "assigned" in row.text and "0/4" in row.text, row.text
    batch_code = row.find_element(By.TAG_NAME, "a").text
    # The station's next pull brings the batch and its orders.
    station = station_sync.StationClient(proc.base_url)
    try:
        pulled = station.pull(0)
        station.heartbeat(
            Heartbeat(queue_depth=0, devices={"scale": "ok", "printer": "ok"}, app_version="0.1.0")
        )
    finally:
        station.close()
    wire = pulled.model_dump_json()
    numbers = _batch_numbers(url, batch_code)
    assert len(numbers) == 4 and batch_code in wire
    assert all(number in wire for number in numbers), (numbers, wire[:500])
    _shot(d, "batches")

    for page in ("exceptions", "stations", "catalogue?q=mug", "channels", ""):
        d.get(f"{proc.base_url}/console/{page}")  # type: ignore[attr-defined]
        _shot(d, page.split("?")[0] or "dashboard")

    # Close the house carrier's day, then download its manifest.
    d.get(f"{proc.base_url}/console/dispatch")  # type: ignore[attr-defined]
    _navigate(
        d, lambda: d.find_element(By.XPATH, '//button[contains(., "Close house\'s day")]').click()
    )  # type: ignore[attr-defined]
    link = d.find_element(By.PARTIAL_LINK_TEXT, "Download CSV")  # type: ignore[attr-defined]
    _shot(d, "dispatch")
    assert _status(url, ids["packed"]) == "shipped"
    cookies = {c["name"]: c["value"] for c in d.get_cookies()}  # type: ignore[attr-defined]
    csv = httpx.get(link.get_attribute("href"), cookies=cookies, timeout=10)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.strip().splitlines()
    assert lines[0].startswith("order_number,parcel_no")
    assert len(lines) == 2 and "HOUSE000123" in lines[1]
    d.get(f"{proc.base_url}/console/audit")  # type: ignore[attr-defined]
    assert "close day" in d.find_element(By.TAG_NAME, "tbody").text  # type: ignore[attr-defined]
    _shot(d, "audit")

    # On a tablet (portrait, then landscape) every page fits its width: wide tables scroll
    # inside their own box, the page itself never scrolls sideways.
    pages = [
        "",
        "orders",
        f"orders/{ids['held']}",
        "exceptions",
        "batches",
        "stations",
        "dispatch",
        "catalogue",
        "catalogue/import",
        "channels",
        "jobs",
        "users",
        "audit",
    ]
    for width, height in ((768, 1024), (1024, 768)):
        d.set_window_size(width, height)  # type: ignore[attr-defined]
        for page in pages:
            d.get(f"{proc.base_url}/console/{page}")  # type: ignore[attr-defined]
            _wait(d, lambda: bool(d.find_element(By.TAG_NAME, "h1").text))  # type: ignore[attr-defined]
            wide = d.execute_script(  # type: ignore[attr-defined]
                "return [document.documentElement.scrollWidth, window.innerWidth]"
            )
            assert wide[0] <= wide[1], (page, width, wide)
            if width == 768 and page in ("orders", f"orders/{ids['held']}"):
                _shot(d, "tablet-" + page.split("/")[0] + ("-view" if "/" in page else ""))
    d.set_window_size(1366, 768)  # type: ignore[attr-defined]


def _seed_jobs_and_label(url: str) -> dict[str, int]:
    """A confirmed house order with a label, and two dead jobs (one for it)."""
    from service.db import utcnow
    from service.jobs.queue import enqueue
    from service.shipping.labels import prepare_labels

    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as s, s.begin():
            order = factories.order(s, status="confirmed", carrier="house")
            s.flush()
            assert prepare_labels(s, [order.id]) == 1
            poll = enqueue(s, "tracking_poll", now=utcnow(), target="house")
            publish = enqueue(s, "publish", now=utcnow(), order_id=order.id, target="test-shop")
            for job, error in (
                (poll, "gls: timeout"),
                (publish, "sendcloud: unavailable (HTTP 503)"),
            ):
                job.status, job.attempts, job.last_error = "dead", 10, error
                job.finished_at = utcnow()
            s.add(
                Product(sku="MUG-RED-350", name="Mug, red, 350 ml", weight_grams=330, active=True)
            )
            # Some orders packed and shipped over the last days, for the lead times.
            now = utcnow()
            for n, (lead, ship) in enumerate(((3, 5), (5, 20), (26, 9), (8, 30))):
                at = now - timedelta(days=n % 3, hours=lead + ship + 1)
                with clock.frozen(at):
                    done = factories.order(s, status="picking", age_hours=0)
                with clock.frozen(at + timedelta(hours=lead)):
                    transition(s, done, OrderStatus.PACKED, actor="station:1")
                with clock.frozen(at + timedelta(hours=lead + ship)):
                    transition(s, done, OrderStatus.SHIPPED, actor="office:boss@example.com")
            s.flush()
            return {"order": order.id, "poll": poll.id, "publish": publish.id}
    finally:
        engine.dispose()


def _rows(url: str, sql: str, **params: object) -> list[tuple[object, ...]]:
    from sqlalchemy import text

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def _execute(url: str, sql: str) -> None:
    from sqlalchemy import text

    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def test_retry_a_dead_job_relabel_an_order_import_and_manage_users(
    service: tuple[ServiceProcess, str], browser: object, tmp_path: Path
) -> None:
    proc, url = service
    ids = _seed_jobs_and_label(url)
    d = browser
    d.get(f"{proc.base_url}/console/jobs")  # type: ignore[attr-defined]
    d.find_element(By.NAME, "email").send_keys("boss@example.com")  # type: ignore[attr-defined]
    _navigate(d, lambda: d.find_element(By.NAME, "password").send_keys(PASSWORD + "\n"))  # type: ignore[attr-defined]
    assert d.find_element(By.TAG_NAME, "h1").text.startswith("Dead jobs")  # type: ignore[attr-defined]
    table = d.find_element(By.TAG_NAME, "tbody").text  # type: ignore[attr-defined]
    assert "The carrier sendcloud was not reachable" in table
    assert "The carrier gls did not answer in time." in table
    _shot(d, "jobs")

    # Retry the tracking poll: it is queued again (the service's worker may run it at once).
    row = d.find_element(By.ID, f"job-{ids['poll']}")  # type: ignore[attr-defined]
    _navigate(d, lambda: row.find_element(By.XPATH, ".//button[.='Retry']").click())
    done = d.find_element(By.CSS_SELECTOR, "p.done").text  # type: ignore[attr-defined]
    assert done == "Queued again; the worker tries it at once."
    ((status,),) = _rows(url, "SELECT status FROM outbound_jobs WHERE id = :i", i=ids["poll"])
    assert status in ("pending", "running", "done"), status
    # Discard the other one, saying why.
    row = d.find_element(By.ID, f"job-{ids['publish']}")  # type: ignore[attr-defined]
    _navigate(
        d,
        lambda: row.find_element(By.NAME, "reason").send_keys(
            "marked shipped in the shop by hand\n"
        ),
    )
    assert d.find_element(By.CSS_SELECTOR, "p.done").text == "Discarded."  # type: ignore[attr-defined]
    assert _rows(
        url,
        "SELECT action, actor, reason FROM office_audit WHERE action LIKE 'job_%' ORDER BY id",
    ) == [
        ("job_retry", "office:boss@example.com", ""),
        ("job_discard", "office:boss@example.com", "marked shipped in the shop by hand"),
    ]

    # Relabel the order: the old label is voided, a new one is ready.
    d.get(f"{proc.base_url}/console/orders/{ids['order']}")  # type: ignore[attr-defined]
    ((old,),) = _rows(url, "SELECT tracking_number FROM labels WHERE order_id = :o", o=ids["order"])
    relabel = d.find_element(By.CSS_SELECTOR, "form.relabel")  # type: ignore[attr-defined]
    d.execute_script("arguments[0].scrollIntoView()", relabel)  # type: ignore[attr-defined]
    _navigate(
        d,
        lambda: relabel.find_element(By.NAME, "reason").send_keys(
            "customer moved across the street\n"
        ),
    )
    done = d.find_element(By.CSS_SELECTOR, "p.done").text  # type: ignore[attr-defined]
    assert done == "A new label was made and the old one voided at the carrier."
    labels = _rows(
        url,
        "SELECT tracking_number, status FROM labels WHERE order_id = :o ORDER BY id",
        o=ids["order"],
    )
    assert labels[0] == (old, "cancelled") and labels[1][1] == "ready", labels
    assert labels[1][0] in d.find_element(By.TAG_NAME, "main").text  # type: ignore[attr-defined]
    d.execute_script(  # type: ignore[attr-defined]
        "arguments[0].scrollIntoView()",
        d.find_element(By.CSS_SELECTOR, "form.relabel"),  # type: ignore[attr-defined]
    )
    _shot(d, "relabel")

    # Import a catalogue: the preview shows the problem; the fixed file imports.
    bad = tmp_path / "range.csv"
    bad.write_text("sku,name,weight\nMUG-GRN-350,Mug green,heavy\n", encoding="utf-8")
    d.get(f"{proc.base_url}/console/catalogue/import")  # type: ignore[attr-defined]
    d.find_element(By.NAME, "file").send_keys(str(bad))  # type: ignore[attr-defined]
    _navigate(d, lambda: d.find_element(By.XPATH, "//button[.='Preview']").click())  # type: ignore[attr-defined]
    problems = d.find_element(By.TAG_NAME, "tbody").text  # type: ignore[attr-defined]
    assert "2 weight" in problems, problems
    _shot(d, "catalogue-import-problems")
    bad.write_text("sku,name,weight\nMUG-GRN-350,Mug green,0.33 kg\n", encoding="utf-8")
    d.find_element(By.NAME, "file").send_keys(str(bad))  # type: ignore[attr-defined]
    _navigate(d, lambda: d.find_element(By.XPATH, "//button[.='Preview']").click())  # type: ignore[attr-defined]
    # The page with the problems is still there until the new preview has loaded.
    _wait(d, lambda: "Importing it would create 1" in d.find_element(By.TAG_NAME, "main").text)  # type: ignore[attr-defined]
    _shot(d, "catalogue-import-preview")
    assert _rows(url, "SELECT sku FROM products WHERE sku = 'MUG-GRN-350'") == []
    _navigate(d, lambda: d.find_element(By.XPATH, "//button[.='Import all of it']").click())  # type: ignore[attr-defined]
    _wait(d, lambda: "1 created" in d.find_element(By.CSS_SELECTOR, "p.done").text)  # type: ignore[attr-defined]
    assert _rows(url, "SELECT weight_grams FROM products WHERE sku = 'MUG-GRN-350'") == [(330,)]

    # Edit a product.
    d.get(f"{proc.base_url}/console/catalogue?q=MUG-RED-350")  # type: ignore[attr-defined]
    _navigate(d, lambda: d.find_element(By.LINK_TEXT, "MUG-RED-350").click())  # type: ignore[attr-defined]
    weight = d.find_element(By.NAME, "weight")  # type: ignore[attr-defined]
    weight.clear()
    weight.send_keys("340 g")
    d.find_element(By.NAME, "gtins").send_keys("4006381333931")  # type: ignore[attr-defined]
    _navigate(d, lambda: d.find_element(By.XPATH, "//button[.='Save']").click())  # type: ignore[attr-defined]
    assert d.find_element(By.CSS_SELECTOR, "p.done").text.startswith("Saved.")  # type: ignore[attr-defined]
    _shot(d, "product")
    assert _rows(url, "SELECT weight_grams FROM products WHERE sku = 'MUG-RED-350'") == [(340,)]

    # Add a station user, then look at the users page and the dashboard's lead times.
    d.get(f"{proc.base_url}/console/users")  # type: ignore[attr-defined]
    add = d.find_element(By.CSS_SELECTOR, "form[action='/console/users']")  # type: ignore[attr-defined]
    add.find_element(By.NAME, "name").send_keys("Ana Pop")
    add.find_element(By.NAME, "badge").send_keys("BADGE-0042")
    add.find_element(By.NAME, "pin").send_keys("482913")
    _navigate(d, lambda: add.find_element(By.XPATH, ".//button[.='Add']").click())
    assert "The user was added" in d.find_element(By.CSS_SELECTOR, "p.done").text  # type: ignore[attr-defined]
    assert "Ana Pop" in d.find_element(By.TAG_NAME, "tbody").text  # type: ignore[attr-defined]
    _shot(d, "users")
    d.get(f"{proc.base_url}/console/?window=7d")  # type: ignore[attr-defined]
    figure = d.find_element(By.ID, "lead-order_to_packed").text  # type: ignore[attr-defined]
    # Leads of 3, 5, 8 and 26 hours: p50 5 h, p95 26 h.
    assert "p50 5 h 00 min · p95 1 d 2 h" in figure and "4 orders" in figure, figure
    _shot(d, "dashboard")

    # The database fails under a page: a page for a person, not the API's JSON.
    _execute(url, "ALTER TABLE outbound_jobs RENAME TO outbound_jobs_gone")
    try:
        d.get(f"{proc.base_url}/console/jobs")  # type: ignore[attr-defined]
        alert = d.find_element(By.CSS_SELECTOR, "p.error").text  # type: ignore[attr-defined]
        _shot(d, "database-error")
    finally:
        _execute(url, "ALTER TABLE outbound_jobs_gone RENAME TO outbound_jobs")
    assert alert.startswith("The database did not answer as it should"), alert
