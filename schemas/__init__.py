"""The CityVitals vocabulary: sensor types, units, subdistricts, the sensor inventory.

Nothing in this package talks to the network or the database; everything else builds on it.
"""

from schemas.errors import InventoryError, Problem, RegistryError, SchemaError
from schemas.registry import Registry, load_registry

__all__ = [
    "InventoryError",
    "Problem",
    "Registry",
    "RegistryError",
    "SchemaError",
    "load_registry",
]
