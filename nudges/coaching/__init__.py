"""The nudge product: planning and composing nudges and follow-ups."""
