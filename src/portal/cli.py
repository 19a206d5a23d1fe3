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
            summary = await load_demo()
        except DemoError as exc:
            _fail(str(exc), 1)
        print(summary)

    asyncio.run(_with_database(settings, work))


def cmd_createstaff(args: argparse.Namespace) -> None:
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
            )
        except StaffError as exc:
            _fail(str(exc), 1)
        role = "administrateur" if member.is_admin else "agent"
        print(f"Compte de gestion « {member.login} » créé ({role}).")

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
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        proxy_headers=True,
        forwarded_allow_ips=args.forwarded_allow_ips,
        log_level="info",
    )


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"port invalide : {value!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"le port doit être entre 1 et 65535 (reçu {port})")
    return port


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
    serve.set_defaults(func=cmd_serve)

    staff = commands.add_parser("createstaff", help="crée un compte de gestion")
    staff.add_argument("login")
    staff.add_argument("--name", default="")
    staff.add_argument("--password", default="", help="demandé si absent")
    staff.add_argument("--admin", action="store_true", help="toutes les structures")
    staff.add_argument("--structure", action="append", help="slug d'une structure (répétable)")
    staff.set_defaults(func=cmd_createstaff)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
