"""Gradeline's event-sourcing core: mechanisms only, no business rule lives here."""
