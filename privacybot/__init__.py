"""privacybot: shared configuration and the command line over the product's parts."""
