"""The analysis engine: pure pandas functions, nothing about Excel."""
from .compare import achievement, compare

__all__ = ["achievement", "compare"]
