"""`cityvitals alerts`: run the engine; check rule files; the ops centre's actions from a shell."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, TypeVar

import asyncpg
import typer

from alerts.errors import AlertError
from cityvitals.cli_common import ConfigOption, fail, on_database, settings_or_exit
from cityvitals.settings import Settings
from schemas.durations import parse_duration
from schemas.errors import SchemaError

alerts_app = typer.Typer(
    invoke_without_command=True,
    help="The alert engine (no subcommand: run it) and the ops centre's actions.",
)
T = TypeVar("T")
ByOption = Annotated[str, typer.Option("--by", help="Who does it (shown in the audit trail).")]
NoteOption = Annotated[str | None, typer.Option("--note", help="A remark for the audit trail.")]


@alerts_app.callback()
def alerts(ctx: typer.Context, config: ConfigOption = None) -> None:
    """Run the alert engine (SIGTERM or Ctrl-C stops it; a second replica stands by)."""
    if ctx.invoked_subcommand is not None:
        return
    from cityvitals.services import run_alerts

    settings = settings_or_exit(config)
    try:
        asyncio.run(run_alerts(settings))
    except SchemaError as error:
        raise fail(f"{len(error.problems)} problem(s):\n{error}") from error


@alerts_app.command("check")
def check(config: ConfigOption = None) -> None:
    """Validate the rule files and the receivers file; list every problem by file and key."""
    from alerts.notify.receivers import load_routing
    from alerts.rules.files import load_rule_files
    from cityvitals.configs import rules_dir
    from schemas.geography import load_geography
    from schemas.registry import load_registry

    settings = settings_or_exit(config)
    try:
        folder = rules_dir(settings)
        registry = load_registry(settings.sensor_types_dir)
        geography = load_geography(settings.geography)
        rules = load_rule_files(registry, folder, geography)
        typer.echo(f"{len(rules)} rules valid (defaults and {folder})")
        if settings.alerts.receivers_path is not None:
            routing = load_routing(
                settings.alerts.receivers_path, domains=registry.domains, geography=geography
            )
            typer.echo(
                f"{len(routing.receivers)} receivers and {len(routing.routes)} routes valid in "
                f"{settings.alerts.receivers_path}"
            )
            if routing.allow_local_urls:
                typer.echo(
                    "note: allow_local_urls is set: receivers may call this host and link-local "
                    "addresses (cloud metadata); for demos and tests, not production"
                )
    except SchemaError as error:
        raise fail(f"{len(error.problems)} problem(s):\n{error}") from error


def _run(settings: Settings, action: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    try:
        return on_database(settings, action)
    except (AlertError, ValueError) as error:
        raise fail(str(error)) from error


@alerts_app.command("list")
def list_alerts(
    config: ConfigOption = None,
    all_: Annotated[bool, typer.Option("--all", help="Resolved and closed ones too.")] = False,
) -> None:
    """Alerts, worst first: fingerprint, phase, grade, ops state, rule, subject, since. The duty
    list includes alerts closed while they still fire (ops 'closed!'), until they clear."""
    from alerts import store

    settings = settings_or_exit(config)
    found = _run(settings, lambda conn: store.list_worst_first(conn, open_only=not all_))
    for a in found:
        value = "" if a.value is None else f"{a.value:g}"
        grade = "-" if a.grade is None else a.grade.value
        ops_state = "closed!" if a.closed_while_firing else a.ops.value
        typer.echo(
            f"{a.fingerprint}  {a.phase.value:<8} {grade:<6} {ops_state:<12} "
            f"{a.rule_id}  {a.subject.id}  {value}  since {a.firing_since or a.pending_since}"
        )
    typer.echo(f"{len(found)} alert(s)")
    if any(a.closed_while_firing for a in found):
        typer.echo("closed!: closed while still firing; listed until the condition clears")


@alerts_app.command("ack")
def ack(
    fingerprint: str, by: ByOption, note: NoteOption = None, config: ConfigOption = None
) -> None:
    """Acknowledge an alert (stops its escalation)."""
    from alerts.engine import ops

    settings = settings_or_exit(config)
    alert = _run(settings, lambda c: ops.acknowledge(c, fingerprint, by, note, datetime.now(UTC)))
    typer.echo(f"{fingerprint}: {alert.ops.value} by {alert.acknowledged_by}")


@alerts_app.command("assign")
def assign(
    fingerprint: str,
    to: Annotated[str, typer.Option("--to", help="The person or crew dispatched.")],
    by: ByOption,
    config: ConfigOption = None,
) -> None:
    """Dispatch an alert to a person or crew (派单); counts as acknowledging it."""
    from alerts.engine import ops

    settings = settings_or_exit(config)
    alert = _run(settings, lambda c: ops.assign(c, fingerprint, to, by, datetime.now(UTC)))
    typer.echo(f"{fingerprint}: assigned to {alert.assignee}")


@alerts_app.command("close")
def close(
    fingerprint: str,
    by: ByOption,
    note: NoteOption = None,
    confirm_firing: Annotated[
        bool,
        typer.Option(
            "--confirm-firing",
            help="Close it although it still fires (needs --note saying why); it stays in "
            "`alerts list`, marked closed!, until the condition clears.",
        ),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Close an alert: the ops centre is done with it (闭环). One that still fires needs
    --confirm-firing and --note."""
    from alerts.engine import ops

    settings = settings_or_exit(config)
    closed = _run(
        settings,
        lambda c: ops.close(
            c, fingerprint, by, note, datetime.now(UTC), confirm_firing=confirm_firing
        ),
    )
    if closed.closed_while_firing:
        typer.echo(
            f"{fingerprint}: closed while still firing at {closed.grade}; it stays in "
            "`cityvitals alerts list` until the condition clears"
        )
    else:
        typer.echo(f"{fingerprint}: closed")


@alerts_app.command("note")
def note(
    fingerprint: str,
    text: Annotated[str, typer.Argument(help="The remark.")],
    by: ByOption,
    config: ConfigOption = None,
) -> None:
    """Add a remark to an alert's audit trail."""
    from alerts.engine import ops

    settings = settings_or_exit(config)
    _run(settings, lambda c: ops.add_note(c, fingerprint, by, text, datetime.now(UTC)))
    typer.echo(f"{fingerprint}: note added")


@alerts_app.command("silence")
def silence(
    matchers: Annotated[list[str], typer.Argument(help="e.g. subdistrict=yinhang grade!=red")],
    by: ByOption,
    for_: Annotated[str, typer.Option("--for", help="How long, e.g. 2h.")] = "2h",
    comment: Annotated[str, typer.Option(help="Why (maintenance works, known fault).")] = "",
    config: ConfigOption = None,
) -> None:
    """Hold back notifications of matching alerts for a while (their state still moves)."""
    from alerts.engine import ops

    settings = settings_or_exit(config)
    try:
        span = timedelta(seconds=parse_duration(for_))
    except ValueError as error:
        raise fail(f"--for: {error}") from error
    now = datetime.now(UTC)
    request = ops.SilenceRequest(matchers, now, now + span, by, comment)
    created = _run(settings, lambda c: ops.create_silence(c, request))
    typer.echo(f"silence {created.id} until {created.ends_at.isoformat()}")


@alerts_app.command("unsilence")
def unsilence(silence_id: str, config: ConfigOption = None) -> None:
    """End a silence now."""
    from alerts import store

    settings = settings_or_exit(config)
    _run(settings, lambda c: store.expire_silence(c, silence_id, datetime.now(UTC)))
    typer.echo(f"silence {silence_id} ended")


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")
