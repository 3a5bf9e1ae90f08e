"""Who is who: workspaces, people, reporting lines, the org import and personal-data rights.

May import the vocabulary, the store, content and scheduling; never coaching, pulse, delivery,
commands or services.
"""
