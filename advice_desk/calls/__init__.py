"""A call: its record and rules, logging and editing, drafts, review, topics, import."""
