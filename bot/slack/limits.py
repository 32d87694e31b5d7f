"""Slack's Block Kit limits, written once.

Numbers are characters (Python `len`, as slack_sdk counts them) unless they say otherwise.
Where slack_sdk validates a limit (`slack_sdk.models.blocks` / `.views`), the number here is
the one it checks; a model over it raises `SlackObjectFormationError` in `to_dict`, so the
message or view is never sent. The others are Slack's documented limits, which the API
enforces (`invalid_blocks`) but slack_sdk does not.

A kernel-like module: plain constants, no imports of Opsloop, storage or Slack libraries.
"""

from __future__ import annotations

# Blocks per surface.
MESSAGE_MAX_BLOCKS = 50
VIEW_MAX_BLOCKS = 100  # a modal or the App Home (slack_sdk: View.blocks_max_length)

# Text in blocks.
SECTION_TEXT_LIMIT = 3000  # SectionBlock.text_max_length
SECTION_FIELDS_MAX = 10  # SectionBlock.fields_max_length
SECTION_FIELD_TEXT_LIMIT = 2000  # each of a section's fields (not checked by slack_sdk)
HEADER_TEXT_LIMIT = 150  # HeaderBlock.text_max_length
CONTEXT_TEXT_LIMIT = 3000  # a text element of a context block (not checked by slack_sdk)
CONTEXT_MAX_ELEMENTS = 10  # ContextBlock.elements_max_length
ACTIONS_MAX_ELEMENTS = 25  # ActionsBlock.elements_max_length
INPUT_LABEL_LIMIT = 2000  # InputBlock.label_max_length
INPUT_HINT_LIMIT = 2000  # InputBlock.hint_max_length

# Elements and composition objects.
BUTTON_TEXT_LIMIT = 75  # ButtonElement.text_max_length
BUTTON_VALUE_LIMIT = 2000  # ButtonElement.value_max_length
BUTTON_URL_LIMIT = 3000  # ButtonElement.url_max_length
OPTION_TEXT_LIMIT = 75  # Option.label_max_length: an option's text (and its description)
OPTION_VALUE_LIMIT = 150  # Option.value_max_length
SELECT_MAX_OPTIONS = 100  # StaticSelectElement / StaticMultiSelectElement.options_max_length
CHECKBOXES_MAX_OPTIONS = 10  # checkboxes and radio buttons (not checked by slack_sdk)
PLACEHOLDER_LIMIT = 150  # InputInteractiveElement.placeholder_max_length
ACTION_ID_LIMIT = 255  # InteractiveElement.action_id_max_length
BLOCK_ID_LIMIT = 255  # Block.block_id_max_length
TEXT_INPUT_LIMIT = 3000  # a plain_text_input's max_length, and so its initial_value

# Views.
VIEW_TITLE_LIMIT = 24  # View.title_max_length (also submit and close)
PRIVATE_METADATA_LIMIT = 3000  # View.private_metadata_max_length

# A message's top-level `text` (the notification and fallback). Slack cuts it at 40,000
# characters and advises under 4,000; Opsloop keeps it under 3,900.
MESSAGE_TEXT_LIMIT = 3900
