"""The throwaway PostgreSQL cluster lives in privacybot.services (the scaled profile uses it)."""

from privacybot.services import PG_BIN, ThrowawayPostgres

__all__ = ["PG_BIN", "ThrowawayPostgres"]
