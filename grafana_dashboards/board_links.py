"""Links between the walls: a click on a place, a type or an alert opens the board about it.

Every link keeps the viewer's time range (`${__url_time_range}`) and names the variables it sets
(`var-subdistrict=...`); `tests/grafana_dashboards/test_links.py` checks that each target board
exists and has those variables. Values taken from the clicked row (`${__data.fields.code}`) are
percent-encoded by Grafana, which is what a query parameter needs.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import dashboard as models

from grafana_dashboards.boards import uid
from grafana_dashboards.i18n import Lang

TIME_RANGE = "${__url_time_range}"


def board_url(
    slug: str, lang: Lang, variables: dict[str, str] | None = None, carry: tuple[str, ...] = ()
) -> str:
    """`/d/<uid>?var-a=x&...&<time range>` of the board `slug` in `lang`: `variables` set from
    the click, `carry` passed on with the current board's value(s) (Grafana writes
    `${x:queryparam}` as `var-x=v1&var-x=v2`)."""
    query = [f"var-{name}={value}" for name, value in (variables or {}).items()]
    query += [f"${{{name}:queryparam}}" for name in carry]
    return f"/d/{uid(slug, lang)}?" + "&".join([*query, TIME_RANGE])


def board_link(
    title: str,
    slug: str,
    lang: Lang,
    variables: dict[str, str] | None = None,
    carry: tuple[str, ...] = (),
) -> cogbuilder.Builder[models.DashboardLink]:
    """A data link (same tab: the walls are one app)."""
    url = board_url(slug, lang, variables, carry)
    return dashboard.DashboardLink(title).url(url).target_blank(False)
