"""Date and time formats per language where Django's own do not suit the portal (FORMAT_MODULE_PATH)."""
