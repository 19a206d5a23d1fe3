"""The `portal` command."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from portal.db import DatabaseUnavailable, check_connection, make_engine, use_engine
from portal.settings import Settings, SettingsError

EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3


def _fail(message: str, code: int) -> None:
    print(f"portal : {message}", file=sys.stderr)
    raise SystemExit(code)


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        _fail(str(exc), EXIT_USAGE)
        raise  # unreachable, for type checkers


async def _with_database(settings: Settings, work: Callable[[], Awaitable[Any]]) -> Any:
    from portal.db import close_pool, start_pool

    engine = make_engine(settings)
    use_engine(engine)
    try:
        await check_connection(engine)
    except DatabaseUnavailable as exc:
        _fail(f"base de données injoignable ({settings.database_url}) : {exc}", EXIT_UNAVAILABLE)
    await start_pool(engine)
    try:
        return await work()
    finally:
        await close_pool(engine)


def cmd_migrate(args: argparse.Namespace) -> None:
    from portal.db import current_engine
    from portal.migrate import MigrationFailed, migrate

    settings = _settings()

    async def work() -> None:
        try:
            report = await migrate(current_engine(), quiet=True)
        except MigrationFailed as exc:
            _fail(f"la migration a échoué : {exc}", 1)
        applied = [line for line in report.splitlines() if "[forwards]" in line]
        print(f"Base à jour ({len(applied)} migration(s) appliquée(s)).")

    asyncio.run(_with_database(settings, work))


def cmd_demo(args: argparse.Namespace) -> None:
    from portal.demo import DemoError, database_is_empty, load_demo

    settings = _settings()

    async def work() -> None:
        if args.if_empty and not await database_is_empty():
            print("La base contient déjà des données : données de démonstration non chargées.")
            return
        try:
            summary = await load_demo(documents_dir=settings.documents_dir)
        except DemoError as exc:
            _fail(str(exc), 1)
        print(summary)

    asyncio.run(_with_database(settings, work))


def cmd_createstaff(args: argparse.Namespace) -> None:
    from portal.domain.staff.roles import ATTACHMENT_ROLES, Role, describe
    from portal.domain.staff.service import StaffError, create_staff

    settings = _settings()
    password = args.password or getpass.getpass("Mot de passe : ")

    async def work() -> None:
        try:
            member = await create_staff(
                args.login,
                password,
                args.name or args.login,
                is_admin=args.admin,
                structure_slugs=args.structure or [],
                roles=[Role(role) for role in args.role or []],
                health_access=not args.sans_sante,
            )
        except StaffError as exc:
            _fail(str(exc), 1)
        if member.is_admin:
            print(f"Compte de gestion « {member.login} » créé (administrateur).")
            return
        held = describe([Role(r) for r in args.role]) if args.role else describe(ATTACHMENT_ROLES)
        print(f"Compte de gestion « {member.login} » créé ({held.lower()}).")

    asyncio.run(_with_database(settings, work))


def cmd_transmit(args: argparse.Namespace) -> None:
    from portal.domain.transmission.service import run_transmission
    from portal.tables import Structure
    from portal.tasks.runtime import BackgroundRuntime

    settings = _settings()
    BackgroundRuntime(settings)  # the broker for these settings, for the reports' wake-up

    async def work() -> None:
        query = Structure.select(Structure.id, Structure.slug).order_by(Structure.id)
        if args.structure:
            query = query.where(Structure.slug == args.structure)
        structures = await query
        if not structures:
            _fail(f"structure inconnue : {args.structure}", 1)
        for row in structures:
            report = await run_transmission(row["id"], settings=settings)
            print(report.summary())
        if not settings.broker_url:
            # No shared broker to hand the reports to: relay them from here.
            from portal.domain.outbox.service import relay_due

            outcome = await relay_due(settings)
            print(f"E-mails : {outcome.sent} envoyé(s), {outcome.retried} à réessayer.")

    asyncio.run(_with_database(settings, work))


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")


def _need_broker(settings: Settings, command: str) -> None:
    if not settings.broker_url:
        _fail(
            f"`portal {command}` a besoin de Redis (PORTAL_REDIS_URL ou PORTAL_BROKER_URL) ; "
            "sans Redis, `portal serve` fait lui-même le travail de nuit et l'envoi des "
            "e-mails.",
            EXIT_USAGE,
        )


def cmd_worker(args: argparse.Namespace) -> None:
    from portal.tasks.runtime import run_worker

    settings = _settings()
    _need_broker(settings, "worker")
    _logging()
    try:
        run_worker(settings, threads=args.threads)
    except DatabaseUnavailable as exc:
        _fail(f"base de données injoignable ({settings.database_url}) : {exc}", EXIT_UNAVAILABLE)


def cmd_scheduler(args: argparse.Namespace) -> None:
    from portal.tasks.runtime import run_scheduler

    settings = _settings()
    _need_broker(settings, "scheduler")
    _logging()

    async def work() -> None:
        await run_scheduler(settings, once=args.once)

    try:
        asyncio.run(_with_database(settings, work))
    except KeyboardInterrupt:
        pass


def cmd_post_consumptions(args: argparse.Namespace) -> None:
    from datetime import date, timedelta

    from portal import clock
    from portal.domain.money.service import post_consumptions
    from portal.tables import Structure

    settings = _settings()
    try:
        until = date.fromisoformat(args.until) if args.until else None
    except ValueError:
        _fail(f"date invalide pour --until : {args.until!r} (attendu : AAAA-MM-JJ)", EXIT_USAGE)

    async def work() -> None:
        query = Structure.select(Structure.id, Structure.name, Structure.timezone)
        if args.structure:
            query = query.where(Structure.slug == args.structure)
        structures = await query.order_by(Structure.id)
        if not structures:
            _fail(f"structure inconnue : {args.structure}", 1)
        for row in structures:
            yesterday = clock.local_today(row["timezone"]) - timedelta(days=1)
            posted = await post_consumptions(row["id"], until or yesterday)
            print(f"{row['name']} : {posted} écriture(s) de consommation passée(s).")

    asyncio.run(_with_database(settings, work))


def cmd_purge_files(args: argparse.Namespace) -> None:
    from portal.domain.family_file.privacy import purge_expired

    settings = _settings()

    async def work() -> None:
        outcome = await purge_expired(settings.documents_dir)
        print(
            f"Durée de conservation dépassée : {outcome.families} famille(s), "
            f"{outcome.documents} document(s) supprimé(s), "
            f"{outcome.children} dossier(s) santé anonymisé(s)."
        )

    asyncio.run(_with_database(settings, work))


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    from portal.app import create_app

    settings = _settings()

    async def probe() -> None:
        return None

    asyncio.run(_with_database(settings, probe))
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    print(f"Portail Famille sur http://{args.host}:{args.port}")
    if settings.broker_url:
        print("Travail de nuit et e-mails : lancez `portal worker` et `portal scheduler`.")
    elif settings.embedded_worker:
        print("Travail de nuit et e-mails : worker et planificateur intégrés.")
    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "proxy_headers": True,
        "forwarded_allow_ips": args.forwarded_allow_ips,
        "log_level": "info",
        "access_log": args.access_log,
        "timeout_keep_alive": settings.keepalive_seconds,
    }
    if args.workers > 1:
        if settings.embedded_worker and not settings.broker_url:
            _fail(
                "--workers > 1 demande Redis (PORTAL_REDIS_URL) : sans lui chaque processus "
                "ferait le travail de nuit.",
                2,
            )
        if settings.is_sqlite:
            print("SQLite : un seul processus écrit à la fois ; plusieurs --workers attendront.")
        # Each process builds its own app from the same PORTAL_* environment.
        uvicorn.run("portal.app:create_app", factory=True, workers=args.workers, **options)
        return
    uvicorn.run(create_app(settings), **options)


def _workers(value: str) -> int:
    try:
        workers = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"nombre invalide : {value!r}") from None
    if not 1 <= workers <= 64:
        raise argparse.ArgumentTypeError(f"entre 1 et 64 processus (reçu {workers})")
    return workers


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"port invalide : {value!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"le port doit être entre 1 et 65535 (reçu {port})")
    return port


def _threads(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 64:
        raise argparse.ArgumentTypeError(f"nombre de fils entre 1 et 64 (reçu {value!r})")
    return int(value)


class FrenchParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        _fail(f"argument incorrect : {message}", EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = FrenchParser(prog="portal", description="Portail Famille")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=FrenchParser)

    commands.add_parser("migrate", help="applique les migrations").set_defaults(func=cmd_migrate)

    demo = commands.add_parser("demo", help="charge les données de démonstration")
    demo.add_argument("--if-empty", action="store_true", help="seulement si la base est vide")
    demo.set_defaults(func=cmd_demo)

    serve = commands.add_parser("serve", help="sert le portail")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_port, default=8000)
    serve.add_argument("--forwarded-allow-ips", default="127.0.0.1")
    serve.add_argument(
        "--workers", type=_workers, default=1,
        help="processus web (un par cœur ; plus d'un demande Redis)",
    )  # fmt: skip
    serve.add_argument(
        "--access-log", action=argparse.BooleanOptionalAction, default=True,
        help="journal de chaque requête (--no-access-log sous forte charge)",
    )  # fmt: skip
    serve.set_defaults(func=cmd_serve)

    transmit = commands.add_parser("transmit", help="lance la transmission (toutes structures)")
    transmit.add_argument("--structure", default="", help="slug d'une seule structure")
    transmit.set_defaults(func=cmd_transmit)

    worker = commands.add_parser("worker", help="exécute les tâches (Redis)")
    worker.add_argument("--threads", type=_threads, default=4, help="fils d'exécution (4)")
    worker.set_defaults(func=cmd_worker)

    scheduler = commands.add_parser("scheduler", help="planificateur : balayage chaque minute")
    scheduler.add_argument("--once", action="store_true", help="un seul balayage, puis sortie")
    scheduler.set_defaults(func=cmd_scheduler)

    posting = commands.add_parser(
        "post-consumptions", help="débite les consommations des jours terminés"
    )
    posting.add_argument("--structure", default="", help="slug d'une seule structure")
    posting.add_argument("--until", default="", help="jusqu'au AAAA-MM-JJ inclus (hier par défaut)")
    posting.set_defaults(func=cmd_post_consumptions)

    purge = commands.add_parser(
        "purge-files",
        help="supprime documents et données de santé au-delà de la durée de conservation",
    )
    purge.set_defaults(func=cmd_purge_files)

    staff = commands.add_parser("createstaff", help="crée un compte de gestion")
    staff.add_argument("login")
    staff.add_argument("--name", default="")
    staff.add_argument("--password", default="", help="demandé si absent")
    staff.add_argument("--admin", action="store_true", help="toutes les structures")
    staff.add_argument("--structure", action="append", help="slug d'une structure (répétable)")
    staff.add_argument(
        "--role",
        action="append",
        choices=["agent", "regisseur", "direction"],
        help="rôle dans ces structures (répétable ; par défaut : les trois)",
    )
    staff.add_argument(
        "--sans-sante",
        action="store_true",
        help="sans accès aux données de santé des dossiers",
    )
    staff.set_defaults(func=cmd_createstaff)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
