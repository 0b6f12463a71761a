"""Test support: start real components on free loopback ports and stop them by PID."""
