"""Pure pieces of the Chat App simulator (fault specs and the metric model); no I/O here."""
