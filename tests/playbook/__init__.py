"""The playbook: schema errors, import, export, the CLI and the shell."""
