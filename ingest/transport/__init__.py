"""The MQTT transport: a small MQTT 5 codec and an asyncio client made for high-rate QoS 1
consumption (see `codec.py` for why not paho here). Knows nothing of payloads or the database."""

from ingest.transport.client import MqttClient, MqttError, tls_context
from ingest.transport.codec import ProtocolError, Publish

__all__ = ["MqttClient", "MqttError", "ProtocolError", "Publish", "tls_context"]
