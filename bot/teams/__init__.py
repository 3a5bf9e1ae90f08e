"""Microsoft Teams adapter: everything botbuilder lives here and nowhere else.

May import the core, ``bot.edge``, ``bot.settings`` and ``bot.doctor``; never another adapter
(``bot.slack``, ``bot.sandbox``), the dashboard or the composition root.
"""
