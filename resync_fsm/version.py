"""The version of resync_fsm: a leaf, so that anything may import it cheaply."""

__version__ = "0.1.0"

