"""Fakes of the platforms that tests play against: real servers on loopback, not mocks."""
