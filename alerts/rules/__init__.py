"""Rules: what to watch and how bad is bad, from the sensor types and the rule files."""
