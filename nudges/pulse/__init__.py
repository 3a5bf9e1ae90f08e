"""Run pulse polls: anonymous answers, results behind a threshold, and the loop back to nudges."""
