"""Who is at the desk: roles and their rules, accounts, the audit trail."""
