"""LlamaMoe's Python side: runs a job bundle under torchrun with the Hugging Face Trainer.

Everything that needs torch or transformers imports them inside functions, so the package (and its unit tests) import
with the standard library only.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
