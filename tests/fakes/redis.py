"""The throwaway redis-server lives in privacybot.services (the scaled profile uses it)."""

from privacybot.services import ThrowawayRedis

__all__ = ["ThrowawayRedis"]
