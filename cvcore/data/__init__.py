"""Datasets, image decoding and transforms."""
from .image import ImageReadError, read_image

__all__ = ["ImageReadError", "read_image"]
