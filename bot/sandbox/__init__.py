"""Try Nudgebot in a browser: a third platform whose chat lives in the service's own web page."""

PLATFORM = "sandbox"
