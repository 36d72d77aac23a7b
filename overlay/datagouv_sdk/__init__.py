"""datagouv-sdk: typed clients for the data.gouv.fr Main, Metrics and Tabular APIs."""

from datagouv_sdk._version import __version__

__all__ = ["__version__"]
