"""The nudge engine: plan, compose and deliver nudges and follow-ups, and handle what people press.

Holds the cadence planner (``planner``, ``inputs``), composing (``compose``), the coaching kinds
of delivery (``deliveries``), button and form handling (``interactions``), the Home view
(``home``), previews and the upcoming list (``preview``, ``upcoming``).

May import the vocabulary and the rooms below it: pulse, delivery, people, scheduling, content,
store. Never commands or services (the assembly).
"""
