"""Reference data every other part reads: code lists, authorities, topics, opening hours. Pure."""
