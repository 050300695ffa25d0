"""Ship-to addresses from 16 European countries for the label fidelity tests.

Short and long ones, every national letter the posts print, a 200-character street and a
12-line address. Written the way the shops send them (name first, country last).
"""

from __future__ import annotations

LONG_STREET = (
    "Strada Mitropolit Varlaam Ștefănescu Bărbulescu Țepeș Colțea Ghiță Șoimărești "
    "Bulevardul Independenței Naționale Complexul Rezidențial Grădinile Însorite "
    "Bloc A2 Scara 4 Etaj 7 Apartament 53 Interfon 53"
)
assert len(LONG_STREET) >= 200

ADDRESSES: dict[str, tuple[str, ...]] = {
    "RO": (
        "Ștefan Țurcanu",
        "Strada Ștefan cel Mare 3",
        "Bloc 4, Scara B",
        "400001 Cluj-Napoca",
        "ROMANIA",
    ),
    "RO-long": ("Ioana Bărbulescu-Țepeș", LONG_STREET, "010011 București, Sector 1", "ROMANIA"),
    "CZ": ("Jiří Dvořák", "Náměstí Míru 1257/12", "120 00 Praha 2 – Vinohrady", "ČESKÁ REPUBLIKA"),
    "PL": ("Łukasz Żółkiewski", "ul. Świętokrzyska 30/63", "00-116 Warszawa", "POLSKA"),
    "HU": ("Szőke Gyöngyvér", "Hűvösvölgyi út 54. II. em. 3.", "1021 Budapest", "MAGYARORSZÁG"),
    "DE": ("Jürgen Größmann", "Kurfürstendamm 195, Hinterhaus 2", "10707 Berlin", "DEUTSCHLAND"),
    "DE-short": ("Bo Li", "Weg 1", "01067 Dresden", "DE"),
    "SK": ("Ľubomír Ďurčo", "Štúrova 27", "811 02 Bratislava", "SLOVENSKO"),
    "IT": ("Niccolò Dell’Acqua", "Via San Gregorio Armeno 1", "80138 Napoli NA", "ITALIA"),
    "ES": ("José Ñúñez Peña", "Calle de Alcalá 48, 3º izq.", "28014 Madrid", "ESPAÑA"),
    "FR": ("Françoise Lefèvre-Œuvray", "12 rue de l’Église", "67000 Strasbourg", "FRANCE"),
    "AT": ("Österreicher Gmbh", "Mariahilfer Straße 77", "1060 Wien", "ÖSTERREICH"),
    "HR": ("Đurđica Šimić", "Ilica 242", "10000 Zagreb", "HRVATSKA"),
    "SI": ("Žiga Čuček", "Trubarjeva cesta 5", "1000 Ljubljana", "SLOVENIJA"),
    "BG": ("Hristo Stoyanov", "bul. Vitosha 15, vh. B, et. 3, ap. 12", "1000 Sofia", "BULGARIA"),
    "PT": ("João Gonçalves", "Avenida da Liberdade 245, 4.º Esq.", "1250-143 Lisboa", "PORTUGAL"),
    "DK": ("Søren Kierkegaard Ærø", "Åboulevarden 12", "8000 Aarhus C", "DANMARK"),
    "LT": ("Žygimantas Ąžuolas", "Gedimino pr. 9", "01103 Vilnius", "LIETUVA"),
    "12-lines": (
        "Maria Popescu",
        "Company Logistics SRL",
        "Attn: Receiving Dock 4",
        "Strada Fabricii 12",
        "Hala C",
        "Poarta 3",
        "Rampa 7",
        "Parter",
        "Interfon 12",
        "Sector 6",
        "060041 București",
        "ROMANIA",
    ),
}
COUNTRIES = {key.split("-")[0] for key in ADDRESSES if key[:2].isupper() and key[2:3] in ("", "-")}
