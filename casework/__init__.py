"""Casework records shared by the action server and the web side: conversations and
messages, tickets, the SAR clock, the consent ledger, staff accounts and the audit log."""
