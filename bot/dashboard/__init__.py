"""Serve the admins' dashboard: each team's pulse over time as charts, drawn on the server as SVG.

The figures come from ``nudges.pulse.dashboard``, which uses the digest's own threshold code; this
package only checks who may look (``access``), draws (``charts``) and lays out the page (``page``).

May import the core and ``bot.settings``; never ``bot.edge`` or an adapter.
"""
