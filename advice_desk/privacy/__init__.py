"""Personal data: which fields are personal, retention, subject access, erasure."""
