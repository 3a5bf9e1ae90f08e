"""Who is who: workspaces, people, reporting lines, the org import and personal-data rights.

Holds ``directory`` (lookups, zones, availability), ``org_file`` and ``org_import`` (reading
and applying the org chart), and the personal-data rights: ``export``, ``erasure``,
``tombstones`` (erased ids), ``poll_totals`` and ``retention``. May import the vocabulary,
the store and scheduling; never a room above it (delivery, pulse, coaching, services, commands).
"""
