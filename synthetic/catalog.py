"""Merchant descriptors by kind, with their ISO 18245 MCCs, and other fake vocabularies.

All names are invented. ``AD_WATCHLIST`` lists the advertising descriptors the generator uses for
escort/classified ad sites, so that a detector's watchlist can be configured to match them.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from txflags.synthetic.events import take

Merchants = tuple[tuple[str, int], ...]

GROCERY: Merchants = (
    ("FRESHMART #{}", 5411),
    ("GREENLEAF GROCERY", 5411),
    ("VALUFOODS", 5411),
    ("CORNER MARKET", 5411),
    ("SUNRISE FOODS", 5411),
)
FUEL: Merchants = (("QUIKFUEL #{}", 5541), ("ROADSTAR GAS", 5541), ("PETROPLUS", 5542))
TRUCKSTOP: Merchants = (("HIGHWAY TRAVEL CENTER", 5542), ("BIGRIG FUEL STOP", 5542))
RESTAURANT: Merchants = (
    ("LUIGI'S TRATTORIA", 5812),
    ("GOLDEN WOK", 5812),
    ("THE DINER", 5812),
    ("TACO SPOT", 5814),
    ("BURGER BARN", 5814),
    ("CAFE BLOOM", 5814),
)
FASTFOOD: Merchants = (
    ("BURGER BARN", 5814),
    ("CHICKEN SHACK", 5814),
    ("TACO SPOT", 5814),
    ("PIZZA EXPRESSO", 5814),
)
CONVENIENCE: Merchants = (("QUICKSTOP", 5499), ("24/7 MART", 5499), ("CORNER DELI", 5499))
PHARMACY: Merchants = (("HEALTHWAY PHARMACY", 5912), ("CAREPLUS DRUG", 5912))
ONLINE: Merchants = (
    ("WEBSHOP*ORDER", 5999),
    ("BOOKNOOK ONLINE", 5942),
    ("GADGETHUB", 5732),
    ("HOMEGOODS DIRECT", 5719),
)
CLOTHING: Merchants = (("STYLE STREET", 5651), ("FAMILY THREADS", 5651))
SUBSCRIPTION: Merchants = (
    ("STREAMFLIX", 4899),
    ("TUNEBOX", 5815),
    ("CLOUDSAFE STORAGE", 5968),
    ("FITCLUB MEMBERSHIP", 7997),
    ("NEWSDAILY", 5968),
)
PHONE: Merchants = (("MOBILECO WIRELESS", 4814),)
RIDE: Merchants = (("RIDESHARE*TRIP", 4121), ("CITYCAB", 4121))
ENTERTAIN: Merchants = (("MEGAPLEX CINEMA", 7832), ("BOWL-O-RAMA", 7933), ("CITY THEATRE", 7922))
AIRLINE: Merchants = (("SKYWAYS AIR", 4511), ("BLUEJET", 4511), ("AERO 3058", 3058))
BUS: Merchants = (("GREYLINE BUS", 4131), ("COASTAL RAIL", 4112))
HOTEL: Merchants = (("GRAND PLAZA HOTEL", 7011), ("HARBOR SUITES", 3509), ("CITYCENTER INN", 3665))
MOTEL: Merchants = (
    ("ROADSIDE INN #{}", 7011),
    ("BUDGET LODGE #{}", 3615),
    ("STARLITE MOTEL", 7011),
    ("EXPRESS STAY #{}", 3504),
    ("SLEEPWELL MOTOR INN", 7011),
    ("STAYBNB*RENTAL", 7011),
)
EXTENDED_STAY: Merchants = (("WEEKLY SUITES #{}", 7011),)
ATM: Merchants = (("ATM WITHDRAWAL", 6011),)
CRYPTO_EXCHANGE: Merchants = (
    ("COINSWIFT*BUY", 6051),
    ("BLOCKVAULT EXCHANGE", 6051),
    ("SATOSHIPAY*PURCHASE", 6051),
)
PREPAID: Merchants = (
    ("PREPAID LOAD*VANILLACARD", 6540),
    ("GIFTCARD MALL", 6540),
    ("RELOAD*PAYCARD", 6540),
)
REMIT: Merchants = (
    ("GLOBALREMIT ONLINE", 4829),
    ("SENDHOME AGENT", 4829),
    ("QUICKWIRE MONEY", 4829),
)
AD_SITES: Merchants = (
    ("LOCALCLASSIFIEDS*BUMP", 5969),
    ("NIGHTLIST*POST", 7399),
    ("ESCORTADS*CREDITS", 7273),
    ("ADPAY*FEATURED", 7399),
    ("CITYGUIDE*ADS", 5969),
    ("VIPLISTING*BOOST", 5967),
)
AD_HOSTING: Merchants = (
    ("HOSTPRO*VPS", 4816),
    ("PROMO MEDIA AGENCY", 7311),
    ("PREMIUMADS*MONTHLY", 5967),
    ("DOMAINZ*RENEW", 4816),
)
DATING: Merchants = (("LOVELINK*PREMIUM", 7273), ("MATCHMEET*BOOST", 7273), ("SWIPEUP*GOLD", 7273))
UPKEEP: Merchants = (
    ("BURGER BARN", 5814),
    ("CHICKEN SHACK", 5814),
    ("QUICKSTOP", 5499),
    ("24/7 MART", 5499),
    ("HEALTHWAY PHARMACY", 5912),
    ("GLAMOUR COSMETICS", 5977),
    ("SILK & LACE", 5631),
    ("TRENDY WOMEN", 5621),
    ("ACCESSORY BAR", 5699),
    ("NAILS & LASHES", 7230),
    ("BLISS SPA", 7298),
)
LUXURY: Merchants = (
    ("DIAMOND DISTRICT JEWELERS", 5944),
    ("PRESTIGE AUTO RENTAL", 7512),
    ("VELVET LOUNGE", 5813),
    ("BOUTIQUE ELAN", 5621),
    ("DESIGNER OUTLET", 5651),
)
NIGHT_VENUE: Merchants = (
    ("VELVET LOUNGE", 5813),
    ("PLATINUM CLUB", 5813),
    ("MOONLIGHT MASSAGE", 7297),
    ("PARADISE SPA", 7298),
)
CAR_RENTAL: Merchants = (("BUDGET WHEELS RENTAL", 7512), ("ZIPCAR SHARE", 3390))
RECRUIT: Merchants = (
    ("GLOBAL STAFFING AGENCY", 7361),
    ("OVERSEAS PLACEMENT CO", 7361),
    ("STUDY ABROAD SERVICES", 8299),
)
BULK_GROCERY: Merchants = (("WHOLESALE CLUB", 5411), ("RESTAURANT DEPOT", 5411))
RENTAL_AGENT: Merchants = (("CITY RENTALS MGMT", 6513), ("SUNSET PROPERTY MGMT", 6513))

AD_WATCHLIST: tuple[str, ...] = tuple(m for m, _ in AD_SITES + AD_HOSTING)

FIRST = (
    "Alex",
    "Maria",
    "James",
    "Linh",
    "Jose",
    "Aisha",
    "Chen",
    "Olga",
    "Sam",
    "Priya",
    "Noah",
    "Ana",
    "Mateo",
    "Grace",
    "Omar",
    "Lucia",
    "Ivan",
    "Mei",
    "Ravi",
    "Elena",
    "Kofi",
    "Sara",
    "Diego",
    "Nadia",
    "Tom",
    "Rosa",
    "Hugo",
    "Leila",
    "Ben",
    "Yuki",
    "Carlos",
    "Ama",
    "Dan",
    "Irina",
    "Juan",
    "Kim",
    "Luis",
    "Mia",
    "Nia",
    "Paolo",
    "Quinn",
    "Rita",
    "Sean",
    "Tara",
)
LAST = (
    "Smith",
    "Garcia",
    "Nguyen",
    "Johnson",
    "Lopez",
    "Kim",
    "Patel",
    "Brown",
    "Santos",
    "Cruz",
    "Miller",
    "Chen",
    "Reyes",
    "Davis",
    "Martinez",
    "Okafor",
    "Ivanova",
    "Wilson",
    "Torres",
    "Moore",
    "Flores",
    "Anderson",
    "Rivera",
    "Thomas",
    "Bautista",
    "Clark",
    "Lewis",
    "Walker",
    "Ramos",
    "Young",
    "Hernandez",
    "King",
    "Wright",
    "Gomez",
    "Scott",
    "Mendoza",
    "Green",
)
STREETS = (
    "Oak",
    "Maple",
    "Pine",
    "Cedar",
    "Elm",
    "Lake",
    "Hill",
    "Park",
    "River",
    "Sunset",
    "Main",
    "Church",
    "Mill",
    "Spring",
    "Forest",
    "Highland",
    "Union",
    "Market",
)
SUFFIX = ("St", "Ave", "Rd", "Blvd", "Ln", "Dr")

OCCUPATIONS = (
    "nurse",
    "teacher",
    "software developer",
    "retail associate",
    "accountant",
    "construction worker",
    "cook",
    "driver",
    "cleaner",
    "mechanic",
    "office clerk",
    "warehouse worker",
    "electrician",
    "engineer",
    "caregiver",
    "student",
    "retired",
    "unemployed",
    "self-employed",
    "hairdresser",
)
OCC_WEIGHTS = np.array([5, 5, 4, 8, 3, 6, 5, 4, 4, 3, 6, 6, 3, 3, 4, 7, 9, 3, 5, 3], dtype=float)
OCC_WEIGHTS /= OCC_WEIGHTS.sum()

BUSINESS_TYPES = (
    "restaurant",
    "convenience store",
    "laundromat",
    "car wash",
    "hair salon",
    "retail store",
    "consulting",
    "construction",
    "trucking",
    "cleaning services",
)
CASH_HEAVY = ("restaurant", "convenience store", "laundromat", "car wash", "hair salon")

MIGRANT_HOMES = ("MX", "PH", "GT", "SV", "IN", "DO", "VN", "CO")
OCSE_CORRIDORS = ("PH", "TH", "DO", "CO", "MX")
COVER_MEMOS = (
    "school uniform",
    "tuition",
    "medical bills",
    "hospital",
    "medicine",
    "food",
    "milk",
    "allowance",
    "rent",
    "accommodation",
    "bills",
)
HIGH_RISK_WALLETS = (
    "csam_vendor",
    "darknet_market",
    "sexual_services",
    "mixer",
    "human_trafficking",
)
STAFF_FLAGS = (
    "speaks_for",
    "insists_present",
    "fills_forms",
    "holds_documents_or_money",
    "claims_relation_without_knowledge",
    "no_knowledge_of_address",
)


_VOCAB: dict[Merchants, tuple[pl.Series, np.ndarray, np.ndarray]] = {}
_STORES = 900  # store numbers 100..999 fill "{}"


def _vocab(merchants: Merchants) -> tuple[pl.Series, np.ndarray, np.ndarray]:
    """All descriptor variants of a merchant list, the offset of each merchant, and its width."""
    if merchants not in _VOCAB:
        names: list[str] = []
        offsets, widths = [], []
        for m, _ in merchants:
            offsets.append(len(names))
            if "{}" in m:
                names.extend(m.format(k) for k in range(100, 100 + _STORES))
                widths.append(_STORES)
            else:
                names.append(m)
                widths.append(1)
        _VOCAB[merchants] = (pl.Series(names, dtype=pl.String), np.array(offsets), np.array(widths))
    return _VOCAB[merchants]


def pick(rng: np.random.Generator, merchants: Merchants, n: int) -> tuple[pl.Series, np.ndarray]:
    """Draw ``n`` merchants: descriptors (``{}`` filled with a store number) and MCCs."""
    idx = rng.integers(0, len(merchants), n)
    vocab, offsets, widths = _vocab(merchants)
    store = rng.integers(0, _STORES, n) % widths[idx]
    mccs = np.array([c for _, c in merchants], dtype=np.int16)[idx]
    return take(vocab, offsets[idx] + store), mccs


_NAMES = pl.Series([f"{f} {s}" for f in FIRST for s in LAST], dtype=pl.String)


def fake_names(rng: np.random.Generator, n: int) -> pl.Series:
    """``n`` invented person names."""
    return take(_NAMES, rng.integers(0, len(_NAMES), n))
