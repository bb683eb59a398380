"""CityVitals composition root: settings, the `cityvitals` CLI, the embedded demo stack."""

__version__ = "0.1.0"
