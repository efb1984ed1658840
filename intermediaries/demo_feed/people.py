"""The demo's clients: the named cast's three, and generated people for the rest of the books."""

import random
import unicodedata
from collections.abc import Iterator
from datetime import date, timedelta
from typing import NamedTuple

from .scales import LARGE

FIRST_NAMES = [
    "Anna", "Lukas", "Sophie", "Jonas", "Marie", "Felix", "Lena", "Paul", "Emma", "Maximilian",
    "Hannah", "Leon", "Julia", "Tobias", "Laura", "Moritz", "Sarah", "Niklas", "Lea", "Jan",
    "Katharina", "Florian", "Johanna", "Sebastian", "Elena", "Dmitri", "Olga", "Sergei", "Irina",
    "Mehmet", "Ayşe", "Giulia", "Marco", "Sofia", "Pierre", "Camille", "Lars", "Ingrid", "Tomasz",
    "Agnieszka",
]  # fmt: skip
LAST_NAMES = [
    "Müller", "Schneider", "Fischer", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann", "Koch",
    "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger",
    "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner", "Krause", "Meier", "Lehmann", "Köhler",
    "Herrmann", "König", "Walter", "Mayer", "Huber", "Kaiser", "Fuchs", "Peters", "Lang", "Scholz",
    "Möller", "Weiß", "Jung", "Hahn", "Keller", "Vogel", "Petrov", "Smirnova", "Yılmaz", "Rossi",
    "Dubois", "Nilsson", "Kowalski",
]  # fmt: skip
STREETS = [
    "Hauptstraße", "Schulstraße", "Gartenstraße", "Bahnhofstraße", "Lindenstraße", "Bergstraße",
    "Kirchweg", "Am Markt", "Rosenweg", "Goethestraße", "Schillerstraße", "Mozartstraße",
    "Waldstraße", "Ringstraße", "Feldweg",
]  # fmt: skip
CITIES = [
    ("10115", "Berlin", "DE"), ("20095", "Hamburg", "DE"), ("80331", "München", "DE"),
    ("50667", "Köln", "DE"), ("60311", "Frankfurt am Main", "DE"), ("70173", "Stuttgart", "DE"),
    ("40213", "Düsseldorf", "DE"), ("04109", "Leipzig", "DE"), ("01067", "Dresden", "DE"),
    ("90402", "Nürnberg", "DE"), ("28195", "Bremen", "DE"), ("30159", "Hannover", "DE"),
    ("1010", "Wien", "AT"), ("5020", "Salzburg", "AT"), ("8001", "Zürich", "CH"), ("4051", "Basel", "CH"),
]  # fmt: skip


class NamedClient(NamedTuple):
    first_name: str
    last_name: str
    email: str
    phone: str
    intermediary: str  # the broker's number


# The named cast's clients, by client number: their logins are client1-3@example.com.
NAMED_CLIENTS = {
    "C0001": NamedClient("Clara", "Schmidt", "client1@example.com", "+4915100000011", "B0001"),
    "C0002": NamedClient("Carl", "Weber", "client2@example.com", "+4915100000012", "B0001"),
    "C0003": NamedClient("Katya", "Ivanova", "client3@example.com", "+4915100000013", "B0003"),
}
# Small scale: which broker gets which clients (12, 8 and 6).
SMALL_BOOKS = {"B0001": 12, "B0002": 8, "B0003": 6}


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().replace(" ", "")


def _person(rng: random.Random, number: str, until: date) -> dict:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    postcode, city, country = rng.choice(CITIES)
    return {
        "first_name": first,
        "last_name": last,
        "email": f"{_ascii(first)}.{_ascii(last)}.{number.lower()}@example.org",
        "phone": f"+49151{rng.randint(10_000_000, 99_999_999)}",
        "street": f"{rng.choice(STREETS)} {rng.randint(1, 120)}",
        "postcode": postcode,
        "city": city,
        "country": country,
        "birth_date": (until - timedelta(days=rng.randint(20 * 365, 85 * 365))).isoformat(),
        "status": "active",
    }


def clients_make(scale: str, until: date) -> Iterator[tuple[str, str, dict, int, random.Random]]:
    """(client number, intermediary number, person, portfolio count, rng seed) for the scale."""
    if scale == "small":
        yield from _small_clients(until)
    else:
        yield from _large_clients(until)


def _small_clients(until: date):
    intermediaries = [number for number, count in SMALL_BOOKS.items() for _ in range(count)]
    # The named clients first, then the rest of each book in order.
    for named in NAMED_CLIENTS.values():
        intermediaries.remove(named.intermediary)
    assigned = [(number, named.intermediary) for number, named in NAMED_CLIENTS.items()]
    assigned += [(f"C{n:04d}", b) for n, b in enumerate(intermediaries, start=len(NAMED_CLIENTS) + 1)]
    for number, intermediary in assigned:
        rng = random.Random(f"client:{number}")
        person = _person(rng, number, until)
        named = NAMED_CLIENTS.get(number)
        if named is not None:
            person.update(first_name=named.first_name, last_name=named.last_name, email=named.email, phone=named.phone)
        yield number, intermediary, person, rng.choice((1, 1, 2, 2, 3)) if number != "C0004" else 2, rng


def _large_clients(until: date):
    brokers = LARGE["intermediaries"]
    # Books of very different sizes, as in life: a few brokers have many clients.
    weights = [1 / (n**0.6) for n in range(1, brokers + 1)]
    chooser = random.Random("large-books")
    for n in range(1, LARGE["clients"] + 1):
        number = f"LC{n:06d}"
        rng = random.Random(f"client:{number}")
        broker = chooser.choices(range(1, brokers + 1), weights=weights)[0]
        yield number, f"L{broker:04d}", _person(rng, number, until), 1 if rng.random() < 0.6 else 2, rng
