"""Nudgebot core: domain, content, store, scheduling and services, free of any platform SDK."""
