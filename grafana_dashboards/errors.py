"""Errors of the Grafana walls.

Hierarchy::

    GrafanaError
    └── PushError          the Grafana HTTP API refused or could not be reached (names the step)
        └── AuthError      the credentials were refused (401/403)

grafana-client's exceptions are converted where they enter this package (`grafana_dashboards.push`).
"""

from __future__ import annotations


class GrafanaError(Exception):
    """Base class of the walls' errors."""


class PushError(GrafanaError):
    """Uploading to Grafana failed; the message says at which step and what Grafana answered."""


class AuthError(PushError):
    """Grafana refused the token or user and password."""
