"""The endpoints, one module per concept; `gateway.app` includes every router."""
