"""Customer feedback and NPS: logged from a command, a modal or a message, tagged, triaged."""
