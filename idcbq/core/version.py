"""The package version (also ``idcbq.__version__``)."""

__version__ = "0.1.0"
