"""What `cityvitals demo` prints once it has started: where to look and how to connect.

The first line is the console's URL, with the keys to sign in right below it: that is what a
person opening the demo needs first. No password is printed whole: they are in files only the
demo's owner can read, which the banner names.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from cityvitals.embedded import EmbeddedStack
from cityvitals.embedded.ports import PortChoice
from cityvitals.embedded.stack import DEVICE_ACCOUNT
from cityvitals.settings import CONFIG_ENV, Settings
from storage.backend import Backend, BackendPreference
from storage.pool import redact_dsn

CONSOLE_PATH = "/console/"
DEMO_DATABASE = "cityvitals"


@dataclass(frozen=True)
class DemoKeys:
    """This run's API keys: the duty officer's (operator) and the wall's (viewer)."""

    operator: str
    viewer: str


def console_url(settings: Settings) -> str:
    return f"http://{settings.gateway.host}:{settings.gateway.port}{CONSOLE_PATH}"


def history_line(backfill: timedelta, first_run: bool) -> str:
    hours = backfill / timedelta(hours=1)
    why = "the first run" if first_run else "since the last run"
    return (
        f"正在补录最近 {hours:g} 小时的历史数据, 补完后另行提示 "
        f"(filling the last {hours:g} h of history at full speed, {why}; "
        "a line below says when it is done)"
    )


def history_done_line(backfill: timedelta, took_s: float) -> str:
    hours = backfill / timedelta(hours=1)
    return (
        f"  ✔ 历史数据补录完成, 实时运行中 (history filled: {hours:g} h in {took_s:.0f} s; "
        "the city runs in real time now)"
    )


def print_banner(
    settings: Settings,
    servers: EmbeddedStack,
    *,
    storage: str,
    keys: DemoKeys,
    moved: list[PortChoice],
    history: str,
    settings_file: Path,
    log_file: Path,
) -> None:
    postgres, broker = servers.postgres, servers.broker
    api = f"http://{settings.gateway.host}:{settings.gateway.port}"
    accounts = broker.accounts_path
    ports = "".join(f"  ports     {choice.note()}\n" for choice in moved)
    print(
        f"console   {console_url(settings)}   控制台: 用下面的值班员密钥登录 "
        "(sign in with the operator key)\n"
        f"operator  {keys.operator}   值班员: 确认、指派、备注、关闭 "
        "(acknowledge, assign, note, close; this run only)\n"
        f"viewer    {keys.viewer}   只读, 供大屏使用 (the wall's key: sees, cannot act)\n"
        "\nCityVitals demo is running (Ctrl-C stops it)  城市运行演示已启动 (Ctrl-C 停止)\n"
        f"{ports}"
        f"  history   {history}\n"
        f"  shell     export {CONFIG_ENV}={settings_file}   "
        "(then e.g. `cityvitals alerts list`)\n"
        f"  log       {log_file}   (access logs and details)\n"
        f"  database  {redact_dsn(settings.database_url)}   "
        f"(password in {postgres.password_path}; log {postgres.log_path})\n"
        f"  storage   {storage}\n"
        f"  broker    {broker.url}   (no anonymous clients; accounts and passwords in {accounts})\n"
        f"  device    mosquitto_pub -h {broker.host} -p {broker.port} -u {DEVICE_ACCOUNT} "
        f"-P \"$(sed -n 's/^{DEVICE_ACCOUNT}://p' {accounts})\" -q 1 "
        "-t city/v1/water/changbai_xincun/yp-wp-0003/telemetry "
        '-m "{\\"ts\\": $(date +%s000), \\"metrics\\": {\\"pressure\\": 0.31}}"\n'
        "  topics    city/v1/<domain>/<subdistrict>/<sensor>/telemetry (see README)\n"
        f"  gateway   {api}   (OpenAPI: {api}/docs, health: {api}/healthz)\n"
        f"            curl -H 'Authorization: Bearer {keys.operator}' {api}/v1/alerts\n"
        "  alerts    the engine evaluates every second; the demo duty officer prints each\n"
        "            message below (🔔 firing, ✅ resolved)\n"
        f"  data      {servers.base_dir}\n",
        flush=True,
    )


async def storage_line(
    servers: EmbeddedStack, backend: Backend, preference: BackendPreference
) -> str:
    """Which backend the demo runs on, and why (the banner's `storage` line)."""
    if backend is Backend.TIMESCALEDB:
        version = await asyncio.to_thread(
            servers.postgres.psql,
            "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'",
            DEMO_DATABASE,
        )
        return (
            f"TimescaleDB {version.strip()}: a hypertable in daily chunks, compressed per "
            "sensor, continuous aggregates"
        )
    if not servers.timescaledb_installed:
        why = "TimescaleDB is not installed for this PostgreSQL"
    elif preference is BackendPreference.POSTGRES:
        why = "storage.backend says so"
    else:  # `auto` found the backend recorded in the database: its layout stays
        why = (
            "this data dir was made on it and keeps its layout, although TimescaleDB is "
            f"installed now (remove {servers.base_dir} to start over on TimescaleDB)"
        )
    return f"plain PostgreSQL (daily partitions, rollup tables): {why}"
