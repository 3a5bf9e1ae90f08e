"""Run pulse polls: sealed answers, results behind a threshold, digests and the loop back to nudges.

Holds the poll schedule (opening, reminders, closing, composing, working days), the question
bank, answers and clicks, sealing, results, digests, the dashboard figures and the signals that
coaching reads.

May import the vocabulary and the rooms below it: delivery, people, scheduling, content, store.
Never commands, services or coaching (coaching reads pulse, not the other way round).
"""
