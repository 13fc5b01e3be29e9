"""An app with a squashed migration next to the ones it replaces."""
