"""The engine: the state machine, the city in memory, evaluation ticks and the service."""
