"""gunicorn reads this file from the directory it starts in (privacybot run starts the web
process in the project root): access-log lines without conversation ids or query strings
(see webhook/accesslog.py)."""

logger_class = "webhook.accesslog.RedactingLogger"
