"""The playbook file: its schema with file:line errors, import into and export from the database."""
