"""Compatibility layers for systems this product replaces (``featureflags.compat.hanoi``)."""
