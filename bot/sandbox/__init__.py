"""Try Nudgebot in a browser: a third platform whose chat lives in the service's own web page.

May import the core, ``bot.edge`` and ``bot.settings``; never another adapter (``bot.slack``,
``bot.teams``), the dashboard or the composition root.
"""

PLATFORM = "sandbox"
