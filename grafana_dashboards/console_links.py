"""Data links from the walls to the gateway's ops console, where the loop is closed (闭环).

Alert tables link every cell to `/console/alerts/{fingerprint}` (a hidden `fingerprint` column of
the panel's SQL); sensor columns link to `/console/sensors/{external_id}`. The console's base URL
is the hidden textbox variable `console_url`: its default is set once per deployment at export
(`cityvitals grafana export --console-url`), and `?var-console_url=` overrides it for one view.

Grafana percent-encodes the values it puts into a data link: `:raw` keeps the base URL whole,
while the fingerprint and the sensor id stay encoded as the path segments they are.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import dashboard as models

from grafana_dashboards.errors import GrafanaError
from grafana_dashboards.i18n import Lang, text

__all__ = [
    "ALERT_PAGE",
    "CONSOLE_URL",
    "DEFAULT_CONSOLE_URL",
    "FINGERPRINT",
    "SENSOR_PAGE",
    "alert_links",
    "console_base_url",
    "console_url_variable",
    "hidden_column",
    "sensor_link",
]

CONSOLE_URL = "console_url"  # the dashboard variable
# The gateway's default address (cityvitals.settings: gateway host and port).
DEFAULT_CONSOLE_URL = "http://127.0.0.1:8080"
FINGERPRINT = "fingerprint"  # the column alert panels select for their link
# The console's pages, agreed with the gateway's console (do not change one without the other).
ALERT_PAGE = "/console/alerts/"
SENSOR_PAGE = "/console/sensors/"
_BASE = f"${{{CONSOLE_URL}:raw}}"


def console_base_url(url: str) -> str:
    """The console's base URL as the walls use it (no trailing slash); GrafanaError naming
    the console URL for anything but an http(s) URL with a host and no query or fragment."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise GrafanaError(
            f"the console URL {url!r} is not an http(s) URL with a host, e.g. {DEFAULT_CONSOLE_URL}"
        )
    if parts.query or parts.fragment:
        raise GrafanaError(f"the console URL {url!r} must not have a query or a fragment")
    return url.strip().rstrip("/")


def console_url_variable(url: str, lang: Lang) -> dashboard.TextBoxVariable:
    """Hidden: the wall shows no input box; the default is what the export was given."""
    base = console_base_url(url)
    return (
        dashboard.TextBoxVariable(CONSOLE_URL)
        .label(text("console_url", lang))
        .description(text("console_url_help", lang))
        .default_value(base)
        .current(models.VariableOption(selected=True, text=base, value=base))
        .hide(models.VariableHide.HIDE_VARIABLE)
    )


def _link(title: str, url: str) -> dashboard.DashboardLink:
    return dashboard.DashboardLink(title).url(url).target_blank(True)


def alert_links(lang: Lang) -> list[cogbuilder.Builder[models.DashboardLink]]:
    """For `fieldConfig.defaults.links`: every cell of the row opens the alert in the console."""
    url = f"{_BASE}{ALERT_PAGE}${{__data.fields.{FINGERPRINT}}}"
    return [_link(text("open_alert_in_console", lang), url)]


def sensor_link(
    column: str, lang: Lang
) -> cogbuilder.Builder[models.DashboardFieldConfigSourceOverrides]:
    """An override: the cells of `column` (a sensor's external id) open that sensor's page
    (in place of the row's alert link, where there is one)."""
    link = {
        "title": text("open_sensor_in_console", lang),
        "url": f"{_BASE}{SENSOR_PAGE}${{__value.raw}}",
        "targetBlank": True,
    }
    return (
        dashboard.DashboardFieldConfigSourceOverrides()
        .matcher(models.MatcherConfig(id_val="byName", options=column))
        .properties([models.DynamicConfigValue(id_val="links", value=[link])])
    )


def hidden_column(column: str) -> cogbuilder.Builder[models.DashboardFieldConfigSourceOverrides]:
    """Kept in the data (a link reads it) but not shown."""
    return (
        dashboard.DashboardFieldConfigSourceOverrides()
        .matcher(models.MatcherConfig(id_val="byName", options=column))
        .properties([models.DynamicConfigValue(id_val="custom.hidden", value=True)])
    )
