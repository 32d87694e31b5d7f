"""Feedback: the command, the modal, the parser, NPS, storage, the export, fuzzing."""
