"""Sensor fleets over MQTT with realistic profiles and incident scenarios.

Imports only schemas: a simulator is a device, not part of the service.
"""
