"""Answer personal-data requests: export what is stored about a person, erase it, expire old rows.

Nothing here ever reads a pulse answer for a person: answers carry no person, so an export has
none to give, and an erasure keeps them as the anonymous counts they are. ``tombstones`` remembers
who asked to be forgotten, ``totals`` freezes poll counts before their rows go, and ``export``,
``erasure`` and ``retention`` carry out the three kinds of request.
"""

from nudges.people.rights.erasure import Erased, forget_person
from nudges.people.rights.export import EXPORT_VERSION, export_bytes, export_person
from nudges.people.rights.retention import (
    RETENTION_ANSWERS,
    RETENTION_DELIVERIES,
    RETENTION_KEYS,
    Expired,
    apply_retention,
    months_ago,
    retention_of,
    run_retention,
)
from nudges.people.rights.tombstones import (
    SALT_KEY,
    came_back,
    id_hash,
    is_forgotten,
    pseudonym,
)
from nudges.people.rights.totals import freeze_polls

__all__ = [
    "EXPORT_VERSION",
    "RETENTION_ANSWERS",
    "RETENTION_DELIVERIES",
    "RETENTION_KEYS",
    "SALT_KEY",
    "Erased",
    "Expired",
    "apply_retention",
    "came_back",
    "export_bytes",
    "export_person",
    "forget_person",
    "freeze_polls",
    "id_hash",
    "is_forgotten",
    "months_ago",
    "pseudonym",
    "retention_of",
    "run_retention",
]
