"""Reminders: the clock (what is due) and the mail (how it is sent)."""
