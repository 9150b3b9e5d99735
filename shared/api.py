"""The app factory every service uses: lifespan, operational routes, errors, and HTTP conventions.

:func:`create_service_app` builds a FastAPI app whose lifespan owns the service's resources:

1. create the service database if missing, open the pool, apply migrations (core, then the
   service's ``migrations`` in the order given), then each background factory's
   :func:`before_serving` step (the read models' empty tables: no read route ever meets a missing
   table);
2. put a metered :class:`PostgresEventStore` on ``app.state.store`` and a robust AMQP connection
   on ``app.state.amqp`` (plus ``pool``, ``settings``, ``metrics`` and ``context``);
3. start each background factory (relay, consumers, projection runner) as an asyncio task with an
   :class:`AppContext`; on shutdown cancel them, wait up to ``shutdown_timeout``, then close the
   broker connection and the pool.

Middleware, outermost first: CORS for the browser origins of ``settings.allowed_origins()`` (the
dashboard one service serves calls the others; outermost, so errors carry its headers too), then
:class:`shared.edge.EdgeMiddleware` (NUL in the URL 422, body-size limit 413, correlation id,
last-resort 500 problem, access log, request metrics), then :class:`shared.guard.
AuthenticationMiddleware` (401/403 for a protected route before anything about the request is
validated), then ``Idempotency-Key`` handling (for authenticated callers only).
Routes on every app: ``GET /health``, ``GET /ready``, ``GET /metrics``, ``GET /auth/config`` (how
the pages sign in, shared.signin), the OpenAPI document and its pages ``/docs`` and ``/redoc``, a
page per problem type (shared.docs_pages), and the pieces the browser pages share (``/pages/``,
shared.pages).

ETags follow the contract: a response showing an aggregate sets ``ETag: etag(version)``
(``shared.requests``); a write reads ``If-Match`` through ``shared.commands.command(...,
if_match=True)`` (the version, or None) and passes it as ``expected_version``; a stale one
surfaces as ``ConcurrencyError``, answered 412 because the request carried ``If-Match``.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aio_pika
import asyncpg
import structlog
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.telemetry import TelemetryConfig
from pydantic import BaseModel, Field
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from shared import db, housekeeping
from shared.commands import document_command_headers
from shared.docs_pages import docs_router
from shared.edge import EdgeMiddleware
from shared.eventstore import PostgresEventStore
from shared.execution import StateCache
from shared.guard import AuthenticationMiddleware
from shared.idempotency import REPLAYED_HEADER, IdempotencyMiddleware, purge_idempotency
from shared.keystore import open_personal_data
from shared.logging import CORRELATION_HEADER, configure_logging
from shared.metrics import MeteredEventStore, Metrics, metrics_router
from shared.pages import pages_router
from shared.personal import PersonalData, PersonalFields
from shared.problems import PROBLEM_RESPONSES, ProblemType, install_problem_handlers
from shared.requests import single_valued_query
from shared.settings import Settings
from shared.signin import signin_router

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
CHECK_TIMEOUT_SECONDS = 2.0  # /ready must answer fast even when a dependency hangs
POOL_CLOSE_SECONDS = 10.0

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class AppContext:
    """What a background worker gets: the app's live resources, opened by the lifespan."""

    settings: Settings
    service: str
    pool: asyncpg.Pool
    store: PostgresEventStore
    amqp: aio_pika.abc.AbstractRobustConnection
    metrics: Metrics
    # Seals and reveals personal fields with the subjects' keys (shared/personal.py).
    personal: PersonalData | None = None
    # Workers report readiness here by name (e.g. "consumer": its queues are declared and
    # consumed); /ready includes each. (The producers declare a consumer's queues too, so events
    # sent before it is ready wait for it: ADR 0007.)
    status: dict[str, Callable[[], bool]] = field(default_factory=dict)
    # Workers that cannot make progress say why here (None: they can), e.g. a relay held at an
    # event that reaches no queue; /ready reports the reason.
    blocked: dict[str, Callable[[], str | None]] = field(default_factory=dict)


BackgroundTask = Callable[[AppContext], Awaitable[None]]
ReadinessCheck = Callable[[AppContext], Awaitable[bool]]
StartUpStep = Callable[[AppContext], Awaitable[None]]


def before_serving(task: BackgroundTask, step: StartUpStep) -> BackgroundTask:
    """Tag ``task`` with a ``step`` the lifespan awaits before the app serves its first request,
    in every process, whether ``settings.workers`` runs ``task`` there or not: what the step
    prepares (a read model's tables, say) is read by the API of every replica."""
    task.before_serving = step  # type: ignore[attr-defined]
    return task


# --- HTTP conventions -----------------------------------------------------------------------


# --- operational routes ---------------------------------------------------------------------


class Health(BaseModel):
    status: str = Field(examples=["ok"])


class Readiness(BaseModel):
    status: str = Field(examples=["ready"])
    checks: dict[str, str] = Field(
        description='each dependency and worker: "ok", "down" or "blocked: <why>"'
    )


async def _database_ready(ctx: AppContext) -> bool:
    return bool(await ctx.pool.fetchval("SELECT 1") == 1)


async def _broker_ready(ctx: AppContext) -> bool:
    return not ctx.amqp.is_closed and ctx.amqp.connected.is_set()


async def _check(check: ReadinessCheck, ctx: AppContext) -> bool:
    try:
        return await asyncio.wait_for(check(ctx), CHECK_TIMEOUT_SECONDS)
    except Exception:  # a failing check means "not ready", whatever the cause
        return False


def _ops_router(readiness: Mapping[str, ReadinessCheck]) -> APIRouter:
    router = APIRouter(tags=["operations"])
    checks = {"database": _database_ready, "broker": _broker_ready, **readiness}

    @router.get("/health", responses={503: {"description": "a background task has stopped"}})
    async def health(request: Request) -> Health:
        """The process is up (liveness): no dependency is consulted. A background task that
        ended on its own (relay, consumer and runner retry every outage, so only a bug ends
        them) fails it too: the process cannot do its job, and a restart is the remedy."""
        ended = [t.get_name() for t in request.app.state.tasks if t.done() and not t.cancelled()]
        if ended:
            raise ProblemType.NOT_ALIVE(f"background task stopped: {', '.join(ended)}")
        return Health(status="ok")

    @router.get("/ready", responses={503: {"description": "a dependency is down"}})
    async def ready(request: Request) -> Readiness:
        """The database, the broker, each extra check and each background task are healthy."""
        ctx: AppContext | None = getattr(request.app.state, "context", None)
        if ctx is None:
            raise ProblemType.NOT_READY("not ready: starting")
        results = await asyncio.gather(*(_check(c, ctx) for c in checks.values()))
        status = {name: "ok" if ok else "down" for name, ok in zip(checks, results, strict=True)}
        for name, is_ready in ctx.status.items():
            status[name] = "ok" if is_ready() else "down"
        for name, why in ctx.blocked.items():
            if (reason := why()) is not None:
                status[name] = f"blocked: {reason}"
        for task in request.app.state.tasks:
            # A worker that ended on its own (crashed) leaves the service unable to do its job.
            status[f"task:{task.get_name()}"] = "down" if task.done() else "ok"
        down = [
            name if state == "down" else f"{name} ({state})"
            for name, state in status.items()
            if state != "ok"
        ]
        if down:
            raise ProblemType.NOT_READY(f"not ready: {', '.join(down)}", checks=status)
        return Readiness(status="ready", checks=status)

    return router


# FastAPI's native OpenTelemetry, all three signals off (``GRADELINE_OTEL=true`` keeps them on).
NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}

# --- CORS -----------------------------------------------------------------------------------

CORS_ALLOWED_HEADERS = (
    "Authorization",
    "Content-Type",
    "If-Match",
    "Idempotency-Key",
    CORRELATION_HEADER,
)
# Retry-After: a page waits out a 404 of an upstream fact not arrived yet (shared/pages/api.js).
CORS_EXPOSED_HEADERS = ("ETag", "Retry-After", REPLAYED_HEADER, CORRELATION_HEADER)


def _cors(settings: Settings) -> list[Middleware]:
    """CORSMiddleware for the allowed origins; none when the list is empty. Bearer tokens, not
    cookies: no credentials mode."""
    origins = settings.allowed_origins()
    if not origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=list(CORS_ALLOWED_HEADERS),
            expose_headers=list(CORS_EXPOSED_HEADERS),
            max_age=600,
        )
    ]


# --- lifespan -------------------------------------------------------------------------------


async def _open_resources(
    app: FastAPI,
    stack: AsyncExitStack,
    service: str,
    migrations: Sequence[Path],
    personal_fields: Mapping[str, PersonalFields],
) -> AppContext:
    settings: Settings = app.state.settings
    database = settings.database_name(service)
    await db.ensure_database(settings.pg_dsn, database)
    pool = await db.create_pool(
        db.dsn_for_database(settings.pg_dsn, database),
        size=settings.pool_size,
        liveness=settings.db_liveness(),
    )
    stack.push_async_callback(_close_pool, pool)
    await db.migrate(pool, [db.CORE_MIGRATIONS, *migrations])
    amqp = await aio_pika.connect_robust(settings.amqp_url)
    stack.push_async_callback(amqp.close)
    metrics: Metrics = app.state.metrics
    personal = await open_personal_data(settings, stack, personal_fields)
    states: StateCache = app.state.states
    states.max_age = personal.cache_seconds  # no state outlives a key cached with it
    personal.on_forget.append(lambda _subject: states.clear())
    store = MeteredEventStore(pool, service, metrics, personal)
    app.state.pool, app.state.store, app.state.amqp = pool, store, amqp
    app.state.personal = personal
    return AppContext(settings, service, pool, store, amqp, metrics, personal)


async def _close_pool(pool: asyncpg.Pool) -> None:
    try:
        await asyncio.wait_for(pool.close(), POOL_CLOSE_SECONDS)
    except TimeoutError:
        pool.terminate()  # a connection stuck in a query must not hold up shutdown


def _start(factory: BackgroundTask, ctx: AppContext) -> asyncio.Task[None]:
    name = getattr(factory, "__name__", repr(factory))

    async def run() -> None:  # create_task wants a coroutine; a factory may return any awaitable
        await factory(ctx)

    task = asyncio.create_task(run(), name=f"{ctx.service}:{name}")
    task.add_done_callback(_report_end)
    return task


def _enabled(factory: BackgroundTask, settings: Settings) -> bool:
    """A standard worker runs when ``settings.workers`` names its kind; any other task always."""
    kind = getattr(factory, "worker_kind", None)
    return kind is None or kind in settings.workers


def _report_end(task: asyncio.Task[None]) -> None:
    if task.cancelled():
        return
    exc = task.exception()  # retrieving it also silences "exception was never retrieved"
    if exc is not None:
        log.error("background_task_crashed", task=task.get_name(), exc_info=exc)
    else:
        log.warning("background_task_ended", task=task.get_name())


async def _stop(tasks: list[asyncio.Task[None]], grace_seconds: float) -> None:
    for task in tasks:
        task.cancel()
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=grace_seconds)
    for task in pending:
        log.warning("background_task_did_not_stop", task=task.get_name(), grace=grace_seconds)


_gc_frozen = False


def tune_gc(gen0_threshold: int) -> None:
    """Make the cyclic garbage collector cheap for a request-serving process.

    With the interpreter's default (a young-generation pass per 700 net new objects), the
    objects of 64 requests in flight cross the threshold every few requests, and collections
    take a noticeable share of a command's CPU walking the same live objects again and again
    (figures: ADR 0011). A higher threshold lets reference counting free each
    request's garbage first; ``gc.freeze()`` (once per process, after start-up) moves the
    modules, schemas and caches loaded at start into a generation that full collections skip.
    Cycles are still collected, only later. ``gen0_threshold`` 0 leaves Python's defaults.
    """
    global _gc_frozen
    if gen0_threshold == 0:
        return
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(gen0_threshold, gen1, gen2)
    if not _gc_frozen:  # a test process builds many apps: freeze the first start-up only
        gc.collect()
        gc.freeze()
        _gc_frozen = True


def _lifespan(
    service: str,
    migrations: Sequence[Path],
    background: Sequence[BackgroundTask],
    shutdown_timeout: float,
    personal_fields: Mapping[str, PersonalFields],
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            ctx = await _open_resources(app, stack, service, migrations, personal_fields)
            for factory in background:
                if (step := getattr(factory, "before_serving", None)) is not None:
                    await step(ctx)
            # The scheduled purge's runs, recorded in the database (any process may report).
            ctx.metrics.add_refresher(housekeeping.refresher(ctx.pool, ctx.metrics))
            wanted = [*background, purge_idempotency]  # every process stores answers
            tasks = [_start(f, ctx) for f in wanted if _enabled(f, ctx.settings)]
            stack.push_async_callback(_stop, tasks, shutdown_timeout)  # runs before the closes
            app.state.context, app.state.tasks = ctx, tasks
            tune_gc(ctx.settings.gc_gen0_threshold)
            log.info("service_started", service=service, background=len(tasks))
            yield
            log.info("service_stopping", service=service)

    return lifespan


def create_service_app(
    settings: Settings,
    *,
    service: str,
    title: str,
    routers: Sequence[APIRouter],
    migrations: Sequence[Path] = (),
    background: Sequence[BackgroundTask] = (),
    readiness: Mapping[str, ReadinessCheck] | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    shutdown_timeout: float = 10.0,
    personal_fields: Mapping[str, PersonalFields] | None = None,
) -> FastAPI:
    """A service app: see the module docstring for what the lifespan and middleware do.

    ``background`` factories receive the :class:`AppContext` and should run until cancelled;
    ``readiness`` adds named checks to ``GET /ready`` (True = ready); ``personal_fields``
    are the marked fields of the event types the service stores or consumes
    (:func:`shared.personal.personal_map`), sealed on append and revealed on read.
    """
    configure_logging(settings.log_level)
    metrics = Metrics(service)
    app = FastAPI(
        title=title,
        docs_url=None,  # /docs and /redoc from shared.docs_pages: no CDN
        redoc_url=None,
        telemetry=None if settings.otel else NO_TELEMETRY,
        lifespan=_lifespan(
            service, migrations, background, shutdown_timeout, personal_fields or {}
        ),
        # Before any route's own parameters are read: a query parameter given twice is refused.
        dependencies=[Depends(single_valued_query)],
        middleware=[
            *_cors(settings),
            Middleware(EdgeMiddleware, metrics=metrics, max_body_bytes=max_body_bytes),
            Middleware(AuthenticationMiddleware),
            Middleware(IdempotencyMiddleware),
        ],
    )
    app.state.settings, app.state.metrics, app.state.tasks = settings, metrics, []
    app.state.states = StateCache(settings.state_cache_size)  # folded states (shared.execution)
    install_problem_handlers(app)
    # The service's own routes first: a request is matched against the app's routers in order
    # (twice, in FastAPI 0.165: to pick the router, then the route), and probes and scrapes
    # are the rarer callers.
    for router in routers:
        document_command_headers(router.routes)
        app.include_router(router, responses=PROBLEM_RESPONSES)
    app.include_router(_ops_router(readiness or {}), responses=PROBLEM_RESPONSES)
    app.include_router(signin_router(), responses=PROBLEM_RESPONSES)
    app.include_router(metrics_router())
    app.include_router(docs_router(title))
    app.include_router(pages_router())
    return app
