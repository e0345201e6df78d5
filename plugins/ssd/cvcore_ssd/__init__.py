"""cvcore-ssd: single-shot multibox detectors (SSD) for the core's detection task."""

__version__ = "0.1.0"
