"""The demo catalogue, customers and addresses used by service.demo (data only)."""

from __future__ import annotations

from decimal import Decimal

# sku, name, grams, (length, width, height) mm, price EUR, serial number required
PRODUCTS: list[tuple[str, str, int, tuple[int, int, int], str, bool]] = [
    ("MUG-BLU-350", "Stoneware Mug Ocean Blue 350 ml", 380, (120, 90, 100), "12.90", False),
    ("MUG-WHT-350", "Stoneware Mug Chalk White 350 ml", 380, (120, 90, 100), "12.90", False),
    ("MUG-GRN-450", "Stoneware Mug Sage Green 450 ml", 440, (130, 95, 110), "14.90", False),
    ("CUP-ESP-090", "Espresso Cup with Saucer 90 ml", 210, (90, 90, 70), "8.50", False),
    ("PLT-DIN-270", "Dinner Plate Matte Sand 27 cm", 720, (275, 275, 30), "16.90", False),
    ("BWL-CER-160", "Cereal Bowl Speckled 16 cm", 410, (165, 165, 70), "11.50", False),
    ("GLS-TMB-300", "Tumbler Glass Set of 4, 300 ml", 980, (200, 200, 110), "19.90", False),
    ("BTL-STL-750", "Insulated Steel Bottle 750 ml Graphite", 420, (80, 80, 290), "29.90", False),
    ("BTL-STL-500", "Insulated Steel Bottle 500 ml Coral", 350, (75, 75, 240), "24.90", False),
    ("LNC-BOX-1L0", "Bamboo Lunch Box 1 l", 330, (190, 130, 70), "17.50", False),
    ("TWL-BTH-GRY", "Bath Towel Organic Cotton Grey 70x140", 640, (300, 200, 60), "24.00", False),
    ("TWL-HND-GRY", "Hand Towel Organic Cotton Grey 50x100", 320, (250, 150, 40), "12.00", False),
    ("CSH-LIN-045", "Linen Cushion Cover Rust 45x45", 180, (250, 200, 20), "19.00", False),
    ("THR-WOL-130", "Merino Throw Blanket 130x170 Oat", 1150, (350, 300, 90), "89.00", False),
    ("CND-SOY-180", "Soy Candle Cedar & Fig 180 g", 310, (85, 85, 95), "18.50", False),
    ("CND-SOY-080", "Soy Candle Travel Tin Lavender 80 g", 140, (70, 70, 45), "9.90", False),
    ("DIF-REE-100", "Reed Diffuser Bergamot 100 ml", 360, (70, 70, 220), "22.00", False),
    ("SOP-OLV-100", "Olive Oil Soap Bar 100 g", 115, (75, 50, 30), "5.50", False),
    ("SHM-SOL-080", "Solid Shampoo Bar Rosemary 80 g", 95, (70, 70, 30), "11.90", False),
    ("BRS-BMB-001", "Bamboo Toothbrush Soft", 20, (190, 25, 15), "3.90", False),
    ("NTB-A5-DOT", "Notebook A5 Dotted Linen Cover", 290, (215, 150, 15), "14.50", False),
    ("NTB-A6-PLN", "Pocket Notebook A6 Plain, 3-pack", 240, (150, 105, 20), "9.90", False),
    ("PEN-FTN-BLK", "Fountain Pen Matte Black, Medium Nib", 60, (150, 30, 25), "34.00", False),
    ("INK-BLU-030", "Bottled Ink Royal Blue 30 ml", 110, (50, 50, 60), "8.90", False),
    ("PCL-GRP-012", "Graphite Pencils HB, 12-pack", 150, (185, 60, 12), "7.50", False),
    ("CAL-WAL-A3", "Wall Calendar 2027 A3 Botanicals", 540, (430, 300, 10), "21.00", False),
    ("PZL-JIG-1K", "Jigsaw Puzzle 1000 pcs Alpine Lake", 820, (270, 200, 60), "23.90", False),
    ("GAM-CRD-001", "Card Game Harbour Masters", 310, (130, 95, 40), "16.00", False),
    ("YGA-MAT-6MM", "Yoga Mat Natural Rubber 6 mm", 2400, (620, 150, 150), "64.00", False),
    ("YGA-BLK-COR", "Cork Yoga Block", 560, (230, 150, 75), "17.90", False),
    ("RSB-SET-003", "Resistance Bands Set of 3", 260, (160, 110, 50), "19.90", False),
    ("JMP-RPE-STL", "Speed Jump Rope Steel Cable", 190, (180, 90, 40), "14.90", False),
    ("BAG-TOT-CNV", "Canvas Tote Bag Natural", 210, (300, 250, 20), "15.00", False),
    ("BAG-BPK-20L", "Roll-Top Backpack 20 l Olive", 890, (420, 300, 120), "79.00", False),
    ("WLT-LTH-BRN", "Leather Card Wallet Cognac", 55, (105, 75, 10), "39.00", False),
    ("UMB-CMP-BLK", "Compact Umbrella Black", 330, (290, 60, 60), "24.90", False),
    ("SCK-MRN-3942", "Merino Hiking Socks EU 39-42", 90, (200, 100, 25), "18.00", False),
    ("SCK-MRN-4346", "Merino Hiking Socks EU 43-46", 95, (210, 100, 25), "18.00", False),
    ("CAP-WOL-GRY", "Wool Beanie Heather Grey", 85, (220, 180, 25), "22.00", False),
    ("GLV-TCH-M", "Touchscreen Gloves Size M", 70, (200, 100, 20), "16.50", False),
    ("HDP-BT-NC1", "Wireless Headphones ANC, Black", 310, (210, 180, 90), "149.00", True),
    ("EBD-BT-TWS", "True Wireless Earbuds, White", 95, (90, 90, 40), "79.00", True),
    ("SPK-BT-MINI", "Portable Bluetooth Speaker Mini", 280, (100, 100, 60), "49.00", True),
    ("PWB-10K-USB", "Power Bank 10000 mAh USB-C", 230, (150, 80, 25), "34.90", True),
    ("CBL-USC-1M", "USB-C to USB-C Cable 1 m", 45, (120, 80, 20), "9.90", False),
    ("CHG-USC-30W", "USB-C Wall Charger 30 W", 80, (70, 50, 40), "24.90", False),
    ("LMP-DSK-LED", "LED Desk Lamp Dimmable, Oak", 1250, (400, 180, 120), "69.00", True),
    ("KBD-MEC-TKL", "Mechanical Keyboard Tenkeyless", 880, (370, 150, 45), "99.00", True),
    ("MSE-WLS-ERG", "Ergonomic Wireless Mouse", 120, (130, 90, 60), "39.00", True),
    ("STD-LAP-ALU", "Aluminium Laptop Stand", 960, (260, 240, 60), "44.00", False),
]

PRICES = {sku: Decimal(price) for sku, _n, _g, _d, price, _s in PRODUCTS}

FIRST_NAMES = [
    "Anna", "Lukas", "Sophie", "Jonas", "Emma", "Noah", "Lea", "Finn", "Marie", "Elias",
    "Julia", "Lars", "Chloé", "Hugo", "Giulia", "Marco", "Lucía", "Pablo", "Zofia", "Jakub",
    "Sanne", "Daan", "Elif", "Tom", "Clara", "Matteo", "Inès", "Wout", "Katarzyna", "Felix",
]  # fmt: skip
LAST_NAMES = [
    "Müller", "Schmidt", "de Vries", "Jansen", "Peeters", "Dubois", "Martin", "Rossi",
    "Bianchi", "García", "Fernández", "Gruber", "Huber", "Kowalski", "Nowak", "Wagner",
    "Bakker", "Lefèvre", "Romano", "López", "Maes", "Leroy", "Bauer", "Wiśniewska",
]  # fmt: skip

# country -> (currency, phone prefix, [(postcode, city, region, street)])
ADDRESSES: dict[str, tuple[str, str, list[tuple[str, str, str, str]]]] = {
    "DE": ("EUR", "+4930", [
        ("10115", "Berlin", "Berlin", "Invalidenstraße"),
        ("80331", "München", "Bayern", "Sendlinger Straße"),
        ("50667", "Köln", "Nordrhein-Westfalen", "Hohe Straße"),
        ("20095", "Hamburg", "Hamburg", "Mönckebergstraße"),
    ]),
    "NL": ("EUR", "+3120", [
        ("1015 CJ", "Amsterdam", "Noord-Holland", "Prinsengracht"),
        ("3511 LX", "Utrecht", "Utrecht", "Oudegracht"),
        ("2511 CV", "Den Haag", "Zuid-Holland", "Lange Voorhout"),
    ]),
    "BE": ("EUR", "+322", [
        ("1000", "Bruxelles", "Bruxelles-Capitale", "Rue Neuve"),
        ("2000", "Antwerpen", "Antwerpen", "Meir"),
        ("9000", "Gent", "Oost-Vlaanderen", "Veldstraat"),
    ]),
    "FR": ("EUR", "+331", [
        ("75011", "Paris", "Île-de-France", "Rue Oberkampf"),
        ("69002", "Lyon", "Auvergne-Rhône-Alpes", "Rue de la République"),
        ("33000", "Bordeaux", "Nouvelle-Aquitaine", "Cours de l'Intendance"),
    ]),
    "IT": ("EUR", "+3902", [
        ("20121", "Milano", "MI", "Via Brera"),
        ("00186", "Roma", "RM", "Via del Governo Vecchio"),
        ("50122", "Firenze", "FI", "Via dei Neri"),
    ]),
    "ES": ("EUR", "+3491", [
        ("28013", "Madrid", "Madrid", "Calle de Preciados"),
        ("08002", "Barcelona", "Barcelona", "Carrer de Ferran"),
        ("46002", "València", "Valencia", "Carrer de Sant Vicent Màrtir"),
    ]),
    "AT": ("EUR", "+431", [
        ("1010", "Wien", "Wien", "Kärntner Straße"),
        ("5020", "Salzburg", "Salzburg", "Getreidegasse"),
    ]),
    "PL": ("PLN", "+4822", [
        ("00-001", "Warszawa", "mazowieckie", "ulica Nowy Świat"),
        ("31-008", "Kraków", "małopolskie", "ulica Floriańska"),
    ]),
}  # fmt: skip
COUNTRY_WEIGHTS = {"DE": 30, "NL": 14, "BE": 10, "FR": 14, "IT": 10, "ES": 9, "AT": 7, "PL": 6}
