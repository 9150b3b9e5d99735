"""``gradeline``: operate Gradeline (tokens, catalog, projections, audit, dead letters, imports)."""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from collections.abc import Coroutine
from contextlib import AsyncExitStack
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

import aio_pika
import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Column, Table

from ops import backfill, backup, export, imports, purge, retention, services
from ops.client import DemoError, service_urls
from ops.credentials import CredentialsError, require_development_tokens
from ops.demo import DEFAULT_SEED, DEFAULT_TRAINEES, load_demo
from ops.report import print_summary
from shared import db
from shared.auth import Role, mint_token_for
from shared.consumer import peek_dead_letters, queue_depths, redrive
from shared.eventstore import PostgresEventStore
from shared.keystore import open_personal_data
from shared.personal import PersonalData, personal_map
from shared.projections import rebuild, verify
from shared.reencrypt import Reencrypted, reencrypt
from shared.seal import Seal, check_seal, write_seal
from shared.settings import Settings

app = typer.Typer(
    help="Operate Gradeline: tokens, event catalog, projections, audit, dead letters."
)
dlq_app = typer.Typer(help="Dead-letter queues: list, peek and re-drive.")
app.add_typer(dlq_app, name="dlq")
personal_app = typer.Typer(help="Personal data: the one-off re-encryption of clear fields.")
app.add_typer(personal_app, name="personal")
people_app = typer.Typer(help="People: retention proposals and their approval.")
app.add_typer(people_app, name="people")
app.command("backfill")(backfill.backfill_command)
app.command("purge")(purge.purge_command)
app.command("backup")(backup.backup_command)
app.command("restore")(backup.restore_command)
console = Console()

T = TypeVar("T")


def spinner(*, transient: bool = False) -> Progress:
    """A task's description beside a spinner and the time it has taken (a rebuild, an audit)."""
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=transient,
    )


def _run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def _service(name: str) -> services.ServiceInfo:
    """The service called ``name``, or a usage error naming the ones there are (exit 2)."""
    known = services.available()
    for info in known:
        if info.name == name:
            return info
    choices = ", ".join(i.name for i in known)
    raise typer.BadParameter(f"no service {name!r}; services: {choices}", param_hint="SERVICE")


def _consuming_service(name: str) -> str:
    """``name`` if that service consumes upstream events (so has queues and a dead-letter
    queue); otherwise a usage error naming those that do."""
    consuming = [i.name for i in services.available() if i.consumes]
    if name not in consuming:
        what = "consumes no events" if name in services.NAMES else "is no service"
        raise typer.BadParameter(
            f"{name!r} {what}; services with dead-letter queues: {', '.join(consuming)}",
            param_hint="SERVICE",
        )
    return name


def _broker(coro: Coroutine[Any, Any, T], settings: Settings) -> T:
    """Run a command against RabbitMQ; an unreachable broker is a message, not a traceback."""
    try:
        return _run(coro)
    except (OSError, aio_pika.exceptions.AMQPError) as exc:
        console.print(f"[red]cannot use RabbitMQ at {_without_password(settings.amqp_url)}: {exc}")
        raise typer.Exit(1) from None


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()


@app.command()
def token(
    sub: Annotated[str, typer.Option(help="subject: a user, trainer or trainee id")],
    role: Annotated[list[Role], typer.Option(help="role (repeat for several)")],
    branch: Annotated[str | None, typer.Option(help="branch id the token acts for")] = None,
    department: Annotated[str | None, typer.Option(help="department (examiners)")] = None,
    ttl: Annotated[int, typer.Option(help="seconds until it expires")] = 8 * 3600,
) -> None:
    """Mint a development token signed with GRADELINE_JWT_SECRET (with GRADELINE_JWT_ISSUER and
    GRADELINE_JWT_AUDIENCE as its iss and aud when they are set)."""
    roles = [str(r) for r in role]
    typer.echo(
        mint_token_for(
            Settings(), sub, roles, branch_id=branch, department=department, ttl_seconds=ttl
        )
    )


@app.command()
def catalog(
    out: Annotated[Path | None, typer.Argument(help="file to write; - for stdout")] = None,
) -> None:
    """Write the event catalog: the JSON Schema of the envelope and of every event."""
    document = {
        "title": "Gradeline event catalog",
        "services": {info.name: info.registry.catalog(info.name) for info in services.available()},
    }
    data = orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    if out is None or str(out) == "-":
        sys.stdout.write(data.decode() + "\n")
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data + b"\n")
        console.print(
            f"wrote {out} ({sum(len(i.registry.types) for i in services.available())} events)"
        )


# An operator's command reads whole stores (verify, rebuild, audit) in single statements: it
# is not held to the services' command timeout.
OPERATOR_COMMAND_SECONDS = 6 * 3600.0


async def _pool(settings: Settings, service: str) -> Any:
    dsn = db.dsn_for_database(settings.pg_dsn, settings.database_name(service))
    liveness = dataclasses.replace(settings.db_liveness(), command_timeout=OPERATOR_COMMAND_SECONDS)
    return await db.create_pool(dsn, size=4, liveness=liveness)


async def _personal_data(
    settings: Settings, stack: AsyncExitStack, info: services.ServiceInfo
) -> PersonalData:
    """What the service reveals history with (the key store, its marked fields), so that a
    rebuild holds what the live projections do (shared.api opens the same)."""
    return await open_personal_data(settings, stack, personal_map(info.registry))


@app.command("rebuild")
def rebuild_command(service: str, projection: str) -> None:
    """Rebuild a projection from history into fresh tables and swap them in."""
    info = _service(service)
    target = next((p for p in info.projections if p.name == projection), None)
    if target is None:
        names = ", ".join(p.name for p in info.projections) or "none"
        raise typer.BadParameter(
            f"{service} has no projection {projection!r}; its projections: {names}",
            param_hint="PROJECTION",
        )

    async def go() -> int:
        settings = Settings()
        async with AsyncExitStack() as stack:
            pool = await _pool(settings, service)
            stack.push_async_callback(pool.close)
            personal = await _personal_data(settings, stack, info)
            with spinner() as progress:
                task = progress.add_task(f"rebuilding {service}.{projection}", total=None)

                def report(applied: int) -> None:
                    progress.update(task, description=f"replayed {applied} events")

                return await rebuild(pool, service, target, progress=report, personal=personal)

    console.print(f"rebuilt {service}.{projection}: {_run(go())} events applied")


@app.command("verify")
def verify_command(service: str) -> None:
    """Check a service: every event's hash chain, the newest seal against the store, and every
    projection against a rebuild."""
    info = _service(service)
    settings = Settings()

    async def go() -> list[str]:
        async with AsyncExitStack() as stack:
            pool = await _pool(settings, service)
            stack.push_async_callback(pool.close)
            problems = [
                f"event {t.stream_id}#{t.version}: {t.problem}"
                for t in await PostgresEventStore(pool, service).verify()
            ]
            problems += await _seal_problems(pool, service, settings)
            personal = await _personal_data(settings, stack, info)
            for projection in info.projections:
                problems += [
                    f"{projection.name}: {d}"
                    for d in await verify(pool, service, projection, personal=personal)
                ]
            return problems

    problems = _run(go())
    for line in problems:
        console.print(f"[red]{line}")
    if problems:
        raise typer.Exit(1)
    console.print(f"{service}: events, seal and projections verified")


async def _seal_problems(pool: Any, service: str, settings: Settings) -> list[str]:
    """The newest seal checked against the store (ADR 0009); says which seal it was."""
    report = await check_seal(pool, service, settings.seal_key_bytes())
    if report.seal is None:
        console.print(f"{service}: no seal yet (run `gradeline seal {service}`)")
    else:
        seal = report.seal
        console.print(
            f"{service}: seal #{seal.id} of {seal.sealed_at:%Y-%m-%d %H:%M:%S %Z} covers"
            f" {seal.streams} streams up to position {seal.position}"
        )
    return report.problems


@app.command("seal")
def seal_command(service: str) -> None:
    """Seal a service's event store now: a keyed digest (GRADELINE_SEAL_KEY) of every stream's
    head, which `verify` and `audit` check."""
    _service(service)
    settings = Settings()

    async def go() -> Seal | None:
        pool = await _pool(settings, service)
        try:
            return await write_seal(pool, service, settings.seal_key_bytes())
        finally:
            await pool.close()

    seal = _run(go())
    if seal is None:
        console.print(f"{service}: nothing new to seal (or a seal is being written)")
        return
    console.print(
        f"{service}: seal #{seal.id} covers {seal.streams} streams up to position"
        f" {seal.position}, mac {seal.mac.hex()}"
    )


@personal_app.command("reencrypt")
def reencrypt_command(service: str) -> None:
    """Seal in place the personal fields a service's events hold in clear (stored before their
    type marked them), recompute the hash chains of the streams holding them, and seal the store
    anew so that `verify` holds (docs/privacy.md)."""
    info = _service(service)
    fields = {name: spec for name, spec in personal_map(info.registry).items() if spec.fields}
    if not fields:
        console.print(f"{service}: no event type marks personal fields; nothing to re-encrypt")
        return
    settings = Settings()

    async def go() -> tuple[Reencrypted, Seal | None]:
        async with AsyncExitStack() as stack:
            pool = await _pool(settings, service)
            stack.push_async_callback(pool.close)
            personal = await _personal_data(settings, stack, info)
            with spinner(transient=True) as progress:
                progress.add_task(f"re-encrypting {service}", total=None)
                done = await reencrypt(pool, personal)
            seal = None
            if done.streams:
                key = settings.seal_key_bytes()
                seal = await write_seal(pool, service, key, force=True)
            return done, seal

    done, seal = _run(go())
    console.print(
        f"{service}: {done.events} events re-encrypted in {done.streams} streams"
        f" ({done.rehashed} events rehashed"
        + (f", {done.erased} of erased people now read as the marker" if done.erased else "")
        + ")"
    )
    if not done.streams:
        return
    if seal is None:
        console.print(
            f"[red]{service}: a seal was being written by another process; run"
            f" `gradeline seal {service}` before `gradeline verify {service}`"
        )
        raise typer.Exit(1)
    console.print(
        f"{service}: sealed anew (the recomputed chains' heads): seal #{seal.id} covers"
        f" {seal.streams} streams up to position {seal.position}"
    )


@people_app.command("retention")
def retention_command(
    as_of: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="the day to judge on")
    ] = None,
    approve: Annotated[
        bool,
        typer.Option("--approve", help="erase every person listed (POST /people/{id}/erasure)"),
    ] = False,
    host: Annotated[str, typer.Option(help="where enrollment listens")] = "127.0.0.1",
) -> None:
    """List the people the retention policy proposes for erasure; with --approve, erase each."""
    settings = Settings()
    try:
        answer = retention.proposals(settings, as_of.date() if as_of else None, host)
    except (retention.RetentionFailed, CredentialsError) as exc:
        console.print(f"[red]{escape(str(exc))}")
        raise typer.Exit(1) from exc
    table = Table("person", "category", "left on", "due on", title="erasure proposals")
    for proposal in answer["proposals"]:
        table.add_row(
            proposal["person_id"], proposal["category"], proposal["since"], proposal["due_on"]
        )
    console.print(table)
    count = len(answer["proposals"])
    console.print(
        f"{count} people due for erasure on {answer['as_of']} ({answer['policy_version']})"
    )
    if not approve or not count:
        if count:
            console.print("approve with --approve: each is erased by POST /people/{id}/erasure")
        return
    try:
        erased = retention.approve(settings, answer, host)
    except (retention.RetentionFailed, CredentialsError) as exc:
        console.print(f"[red]{escape(str(exc))}")
        raise typer.Exit(1) from None
    console.print(f"erased {len(erased)} people: {', '.join(e.person_id for e in erased)}")


@app.command("audit")
def audit_command(
    service: Annotated[str, typer.Option(help="the service whose history to audit")] = "assessment",
    show: Annotated[int, typer.Option(help="differences to list at most")] = 50,
) -> None:
    """Replay every trainee's history and re-derive its decisions (R-22), and check the newest
    seal; exit 1 on any inconsistency (a decision that no longer re-derives, an edited event, a
    store that differs from its seal)."""
    audit_all = _service(service).audit
    if audit_all is None:
        raise typer.BadParameter(f"{service} has no audit", param_hint="--service")

    settings = Settings()

    async def go() -> tuple[list[dict[str, Any]], list[str]]:
        pool = await _pool(settings, service)
        try:
            with spinner(transient=True) as progress:
                progress.add_task(f"auditing every trainee of {service}", total=None)
                reports = await audit_all(pool, PostgresEventStore(pool, service))
            return reports, await _seal_problems(pool, service, settings)
        finally:
            await pool.close()

    reports, sealing = _run(go())
    failed = [r for r in reports if not r["consistent"]]
    for line in sealing:
        console.print(f"[red]{line}")
    if failed:
        console.print(_differences_table(failed, show))
        console.print(f"[red]{service}: {len(failed)} of {len(reports)} trainees inconsistent")
    if failed or sealing:
        raise typer.Exit(1)
    console.print(f"{service}: {len(reports)} trainees audited, all consistent")


def _differences_table(reports: list[dict[str, Any]], show: int) -> Table:
    rows = [(r["trainee_id"], d) for r in reports for d in r["differences"]]
    caption = f"{len(rows) - show} more not shown (--show)" if len(rows) > show else None
    event = Column("event", overflow="fold")  # an event id must stay whole to be looked up
    table = Table(
        "trainee", "kind", event, "field", "detail", title="audit differences", caption=caption
    )
    for trainee_id, d in rows[:show]:
        where = f"{d['stream_id']}#{d['version']}" if d.get("stream_id") else d.get("event_id")
        table.add_row(trainee_id, d.get("kind"), where, d.get("field"), _detail(d))
    return table


def _detail(difference: dict[str, Any]) -> str:
    if difference.get("detail"):
        return str(difference["detail"])
    return f"recorded {difference.get('recorded')!r}, re-derived {difference.get('rederived')!r}"


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="the scenario's random seed")] = DEFAULT_SEED,
    trainees: Annotated[int, typer.Option(min=5, help="trainees over the five branches")] = (
        DEFAULT_TRAINEES
    ),
    host: Annotated[str, typer.Option(help="where the four services listen")] = "127.0.0.1",
) -> None:
    """Load the demo into the running services: five branches post a training round
    concurrently. Safe to repeat: a second run replays every write and appends nothing."""
    settings = Settings()
    urls = service_urls(host, settings.port_offset)
    try:
        require_development_tokens(settings, "the demo loader")
    except CredentialsError as exc:
        console.print(f"[red]{escape(str(exc))}")
        raise typer.Exit(1) from None
    try:
        summary = _run(
            load_demo(
                urls,
                secret=settings.jwt_secret,
                seed=seed,
                trainees=trainees,
                console=console,
                ready_seconds=15,
            )
        )
    except DemoError as exc:
        console.print(f"[red]demo failed: {exc}")
        raise typer.Exit(1) from None
    print_summary(summary, console)
    if summary.problems:
        raise typer.Exit(1)


@app.command("export")
def export_command(
    kind: Annotated[str, typer.Argument(help="payroll | fees | fines | plan")],
    ident: Annotated[str, typer.Argument(help="the month YYYY-MM, or the trainee id of a plan")],
    fmt: Annotated[str, typer.Option("--format", help="xlsx or csv")] = "xlsx",
    out: Annotated[
        Path | None, typer.Option(help="file to write (default: KIND-ID.FORMAT)")
    ] = None,
    host: Annotated[str, typer.Option(help="where the services listen")] = "127.0.0.1",
) -> None:
    """Save a payroll month, the branch fees or trainer fines of a month or a training plan as a
    spreadsheet."""
    if kind not in export.EXPORTS:
        raise typer.BadParameter(f"unknown export {kind!r} (payroll, fees, fines, plan)")
    try:
        data = export.fetch(kind, ident, fmt, Settings(), host)
    except (export.ExportFailed, CredentialsError) as exc:
        console.print(f"[red]{escape(str(exc))}")
        raise typer.Exit(1) from None
    target = out or export.default_name(kind, ident, fmt)
    target.write_bytes(data)
    console.print(f"wrote {target} ({len(data)} bytes)")


@app.command("import")
def import_command(
    kind: Annotated[str, typer.Argument(help="branches | staff | trainees")],
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="the .xlsx file")
    ],
    host: Annotated[str, typer.Option(help="where enrollment listens")] = "127.0.0.1",
) -> None:
    """Register the branches or the staff, or enrol the trainees, of a spreadsheet: all rows or
    none (columns in English or Chinese, docs/organisation.md, docs/workbench.md); lists each bad
    row's problems."""
    if kind not in imports.KINDS:
        known = ", ".join(imports.KINDS)
        raise typer.BadParameter(f"unknown import {kind!r} ({known})", param_hint="KIND")
    try:
        report = imports.upload(kind, file, Settings(), host)
    except (imports.ImportFailed, CredentialsError) as exc:
        console.print(f"[red]{escape(str(exc))}")
        raise typer.Exit(1) from None
    if report.problems:
        table = Table("row", "column", "problem", title=f"{file}: nothing imported")
        for p in report.problems:
            row = "" if p.get("row") is None else str(p["row"])
            rule = f" ({p['rule']})" if p.get("rule") else ""
            table.add_row(row, str(p.get("field", "")), f"{p.get('message', '')}{rule}")
        console.print(table)
        raise typer.Exit(1)
    again = " (this file was imported before: its first answer)" if report.replayed else ""
    console.print(f"imported {len(report.ids)} {kind}{again}: {', '.join(report.ids)}")


@dlq_app.command("list")
def dlq_list(service: str) -> None:
    """Messages waiting in the service's partition queues and dead-letter queue."""
    settings = Settings()
    depths = _broker(queue_depths(settings, _consuming_service(service)), settings)
    table = Table("queue", "messages")
    for queue, depth in depths.items():
        table.add_row(queue, str(depth))
    console.print(table)


@dlq_app.command("peek")
def dlq_peek(
    service: str,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="dead letters to show")] = 20,
) -> None:
    """Show the first dead letters and why they failed, leaving them in the queue."""
    settings = Settings()
    letters = _broker(peek_dead_letters(settings, _consuming_service(service), limit), settings)
    if not letters:
        console.print(f"{service}: no dead letters")
        return
    event = Column("event id", overflow="fold")  # whole, to be looked up
    table = Table(
        "type",
        "stream",
        "version",
        event,
        "reason",
        "attempts",
        "failed at",
        Column("error", overflow="fold"),
        title=f"{service} dead letters",
    )
    for d in letters:
        table.add_row(
            d.type,
            d.stream_id,
            _text(d.version),
            d.event_id,
            d.reason,
            _text(d.attempts),
            d.failed_at,
            d.error,
        )
    console.print(table)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


@dlq_app.command("redrive")
def dlq_redrive(service: str, limit: Annotated[int | None, typer.Option()] = None) -> None:
    """Move dead letters back to the service's partitions (after fixing the cause)."""
    settings = Settings()
    moved = _broker(redrive(settings, _consuming_service(service), limit), settings)
    console.print(f"re-drove {moved} message(s) to {service}")


if __name__ == "__main__":
    app()
