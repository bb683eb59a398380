"""Sensor fleets over MQTT with realistic profiles and incident scenarios.

Not built yet (issue 4). Imports only schemas: a simulator is a device, not part of the service.
"""
