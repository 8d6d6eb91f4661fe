"""`hotline`: the command line of the knowledge store.

    hotline ingest [--refresh] FILE...     read bulletins into the store (all or nothing)
    hotline check [FILE...]                list the findings (of the store, or of files not ingested)
    hotline facts [--format jsonl|csv|text] [--subject S] [--measure M] [--period P]
    hotline hospitals [--format json|text]
    hotline gazetteer [--out FILE]         every name of every subject, for the NLU components
    hotline report --period 2026-11 | --from D --to D [--format text|json|csv|png] [--out F] [--sender ID]
    hotline calllog consume [--follow]     move Rasa's broker events into the call log
    hotline tickets [--status S] [--kind K]                      list work orders (phones masked)
    hotline ticket NUMBER [--status S --actor NAME [--note T]]   show one; or move it (open, in_progress, closed)
    hotline work-order --kind 市12345工单|省12345工单 --hospital H --description D --occurred T [--phone P] --actor NAME
    hotline agent add NAME [--password-stdin] | agent list | agent disable NAME   agents of the console
    hotline db upgrade [REVISION] | db current     the store's schema (Alembic migrations, database/migrate.py)

Commands that write bring the store's schema to head first (a new store too); the others refuse a
store whose schema is behind (run `hotline db upgrade`).
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from datetime import date
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from knowledge import queries
from database import migrate
from database.engine import make_engine
from knowledge.bulletin.layout import BulletinError
from knowledge.bulletin.parser import parse_bulletin
from knowledge.names import load_reference
from hotline import privacy
from hotline.settings import Settings
from knowledge.ingest import ingest

MAX_FILE_BYTES = 20 * 1024 * 1024  # a bulletin is some 100 KB; anything this large is not one


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings.from_env()
    url = args.database_url or settings.database_url
    args.settings = settings
    try:
        return args.handler(args, url)
    except BrokenPipeError:  # `hotline facts | head`
        return 0
    except migrate.StoreNotMigrated as exc:
        print(f"hotline: {exc}", file=sys.stderr)
        return 1
    except OperationalError as exc:
        # The store's server is down or unreachable (a restart, a wrong URL): one line, no traceback.
        where = make_url(url).render_as_string(hide_password=True)
        print(f"hotline: the store does not answer ({where}): {str(exc.orig or exc).strip().splitlines()[0]}",
              file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotline", description="南京12320 hotline assistant: knowledge store")
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: $DATABASE_URL or var/hotline.db)")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    p = sub.add_parser("ingest", help="read bulletins into the store")
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--refresh", action="store_true",
                   help="read files already ingested anew (after a change to the parser or reference data)")
    p.set_defaults(handler=cmd_ingest)

    p = sub.add_parser("check", help="list findings of the store, or of the given files")
    p.add_argument("files", nargs="*", type=Path)
    p.add_argument("--strict", action="store_true", help="exit 1 when there is a warning")
    p.set_defaults(handler=cmd_check)

    p = sub.add_parser("facts", help="every fact of the store")
    p.add_argument("--format", choices=("jsonl", "csv", "text"), default="text")
    p.add_argument("--subject", help="a hospital, district, channel … by any of its names")
    p.add_argument("--measure")
    p.add_argument("--period", help="2023, 2019-10 …")
    p.set_defaults(handler=cmd_facts)

    p = sub.add_parser("gazetteer", help="the names the NLU recognises, as JSON (for bot/ components)")
    p.add_argument("--out", type=Path, help="write to this file (atomically) instead of stdout")
    p.set_defaults(handler=cmd_gazetteer)

    p = sub.add_parser("hospitals", help="every hospital with its aliases")
    p.add_argument("--format", choices=("json", "text"), default="text")
    p.set_defaults(handler=cmd_hospitals)

    p = sub.add_parser("report", help="conversations, messages and work orders of a period, beside the bulletin")
    p.add_argument("--period", help="a year (2026) or a month (2026-11), Nanjing time")
    p.add_argument("--from", dest="date_from", type=_date, help="first day (2026-11-01), with --to")
    p.add_argument("--to", dest="date_to", type=_date, help="last day, included")
    p.add_argument("--format", choices=("text", "json", "csv", "png"), default="text")
    p.add_argument("--out", type=Path, help="png: where to write it (default var/report-<period>.png)")
    p.add_argument("--sender", help="only this resident (the id as the channel received it)")
    p.set_defaults(handler=cmd_report)

    p = sub.add_parser("calllog", help="the call log")
    calllog = p.add_subparsers(required=True, metavar="ACTION")
    c = calllog.add_parser("consume", help="move Rasa's event broker rows into the call log")
    c.add_argument("--follow", action="store_true", help="keep consuming until interrupted")
    c.add_argument("--interval", type=float, default=0.5, help="seconds between polls with --follow")
    c.add_argument("--batch", type=int, default=500)
    c.set_defaults(handler=cmd_calllog_consume)

    p = sub.add_parser("tickets", help="list work orders, newest first (phones masked)")
    p.add_argument("--status", choices=("open", "in_progress", "closed"))
    p.add_argument("--kind", choices=("自接工单", "市12345工单", "省12345工单"))
    p.set_defaults(handler=cmd_tickets)

    p = sub.add_parser("ticket", help="show a work order (its phone in clear: its handler's view), or move it")
    p.add_argument("number")
    p.add_argument("--status", choices=("open", "in_progress", "closed"), help="the new status")
    p.add_argument("--actor", help="who makes the change (required with --status)")
    p.add_argument("--note")
    p.set_defaults(handler=cmd_ticket)

    p = sub.add_parser("work-order", help="register a work order forwarded by 市12345 or 省12345")
    p.add_argument("--kind", required=True, choices=("市12345工单", "省12345工单"))
    p.add_argument("--hospital", required=True)
    p.add_argument("--description", required=True)
    p.add_argument("--occurred", required=True)
    p.add_argument("--phone")
    p.add_argument("--actor", required=True)
    p.set_defaults(handler=cmd_work_order)

    p = sub.add_parser("agent", help="agents of the console (/console)")
    agent = p.add_subparsers(required=True, metavar="ACTION")
    a = agent.add_parser("add", help="create an agent; the password is asked twice (or read from stdin)")
    a.add_argument("name")
    a.add_argument("--password-stdin", action="store_true",
                   help="read the password from the first line of stdin (scripts, tests)")
    a.set_defaults(handler=cmd_agent_add)
    a = agent.add_parser("list", help="every agent, whether active, last login")
    a.set_defaults(handler=cmd_agent_list)
    a = agent.add_parser("disable", help="an agent can no longer log in; their sessions end")
    a.add_argument("name")
    a.set_defaults(handler=cmd_agent_disable)

    p = sub.add_parser("db", help="the store's schema: migrations")
    db = p.add_subparsers(required=True, metavar="ACTION")
    d = db.add_parser("upgrade", help="bring the schema to the newest revision (a store made before migrations is "
                                      "stamped 0001 first)")
    d.add_argument("revision", nargs="?", default="head")
    d.set_defaults(handler=cmd_db_upgrade)
    d = db.add_parser("current", help="the store's revision; exit 1 unless it is the newest")
    d.set_defaults(handler=cmd_db_current)
    return parser


def _date(text: str):
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (2026-11-01)") from None


@contextmanager
def _engine(url: str, *, create: bool = True) -> Iterator[Engine]:
    # create: a writing command migrates the store to head; a reading one only checks it is there.
    engine = make_engine(url, create=create)
    try:
        if not create:
            migrate.require_current(engine)
        with Session(engine) as session:  # the centre's own numbers stay in clear where text is masked
            privacy.publish(privacy.load_published(session))
        yield engine
    finally:
        engine.dispose()


def _read(path: Path) -> bytes:
    if not path.is_file():
        raise BulletinError(str(path), 0, "no such file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise BulletinError(str(path), 0, f"{path.stat().st_size} bytes: too large for a bulletin")
    return path.read_bytes()


def _parse_all(files: list[Path]):
    reference = load_reference()
    parsed, errors = [], []
    for path in files:
        try:
            parsed.append(parse_bulletin(_read(path), path.name, reference))
        except BulletinError as exc:
            errors.append(f"{path}:{exc.line}: {exc.message}" if exc.source != str(path) else str(exc))
    return parsed, errors, reference


def cmd_ingest(args, url: str) -> int:
    parsed, errors, reference = _parse_all(args.files)
    if errors:
        for error in errors:
            print(f"error: {error}", file=sys.stderr)
        print("nothing was ingested: the store is unchanged", file=sys.stderr)
        return 1
    with _engine(url) as engine, Session(engine) as session, session.begin():
        results = [ingest(session, p, reference, refresh=args.refresh) for p in parsed]
        for p, r in zip(parsed, results):
            b = r.bulletin
            warnings = sum(1 for f in b.findings if f.severity != "info")
            print(f"{p.source}: {b.citation}, period {b.period}: {r.facts} facts, "
                  f"{r.findings} findings ({warnings} to review): {r.status}")
    return 0


def cmd_check(args, url: str) -> int:
    if args.files:
        parsed, errors, _ = _parse_all(args.files)
        for error in errors:
            print(f"error: {error}")
        rows = [(p.source, n.line, n.severity, n.code, n.message) for p in parsed for n in p.notes]
        failed = bool(errors)
    else:
        with _engine(url, create=False) as engine, Session(engine) as session:
            rows = [(f.bulletin.source, f.line, f.severity, f.code, f.message)
                    for f in queries.findings(session)]
        failed = False
    for source, line, severity, code, message in rows:
        print(f"{source}:{line}: {severity}: {code}: {message}")
    counts = {s: sum(1 for r in rows if r[2] == s) for s in ("error", "warning", "info")}
    print(f"{len(rows)} findings: {counts['warning']} warnings, {counts['info']} info", file=sys.stderr)
    if failed or (args.strict and counts["warning"]):
        return 1
    return 0


def _fact_record(fact) -> dict:
    return {
        "period": fact.period,
        "subject": fact.subject.name,
        "subject_kind": fact.subject.kind,
        "measure": fact.measure,
        "value": fact.value,
        "unit": fact.unit,
        "scope": fact.scope,
        "source": fact.bulletin.source,
        "citation": fact.bulletin.citation,
        "section": fact.section,
        "line": fact.line,
        "flag": fact.flag,
    }


def cmd_facts(args, url: str) -> int:
    with _engine(url, create=False) as engine, Session(engine) as session:
        try:
            records = [_fact_record(f) for f in queries.facts(
                session, subject=args.subject, measure=args.measure, period=args.period)]
        except queries.NotFound as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    out = sys.stdout
    if args.format == "jsonl":
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    elif args.format == "csv":
        writer = csv.DictWriter(out, fieldnames=list(records[0]) if records else ["period"])
        writer.writeheader()
        writer.writerows(records)
    else:
        for r in records:
            flag = f"  [{r['flag']}]" if r["flag"] else ""
            out.write(f"{r['period']}\t{r['subject']}\t{r['measure']}\t{r['value']}{r['unit']}\t"
                      f"{r['citation']}{flag}\n")
    return 0


def cmd_hospitals(args, url: str) -> int:
    with _engine(url, create=False) as engine, Session(engine) as session:
        ambiguous = queries.ambiguous_aliases(session)
        records = []
        for h in queries.hospitals(session):
            aliases = sorted(a.text for a in h.aliases)
            records.append({
                "name": h.name,
                "category": h.category,
                "district": h.district.name if h.district else None,
                "aliases": aliases,
                "ambiguous": {a: ambiguous[("hospital", a)] for a in aliases if ("hospital", a) in ambiguous},
            })
    if args.format == "json":
        json.dump(records, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        for r in records:
            amb = [f"{a}?" for a in r["ambiguous"]]
            clear = [a for a in r["aliases"] if a not in r["ambiguous"]]
            print(f"{r['name']} ({r['category']}{', ' + r['district'] if r['district'] else ''}): "
                  f"{'、'.join(clear + amb)}")
    return 0


def cmd_gazetteer(args, url: str) -> int:
    with _engine(url, create=False) as engine, Session(engine) as session:
        data = queries.gazetteer(session, load_reference())
    text = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    if args.out is None:
        sys.stdout.write(text)
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(args.out.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(args.out)  # readers never see half a file
    print(f"{args.out}: {sum(len(e['names']) for e in data['subjects'])} names of "
          f"{len(data['subjects'])} subjects, {len(data['measures'])} measures")
    return 0


def cmd_report(args, url: str) -> int:
    from hotline import reports as report

    try:
        if args.period and (args.date_from or args.date_to):
            raise report.PeriodError("give --period or --from/--to, not both")
        if args.period:
            period = report.parse_period(args.period)
        elif args.date_from and args.date_to:
            period = report.date_range(args.date_from, args.date_to)
        else:
            raise report.PeriodError("give --period 2026-11 (or 2026), or --from and --to")
    except report.PeriodError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.out and args.format != "png":
        print("error: --out is for --format png (the other formats go to stdout)", file=sys.stderr)
        return 2
    key = args.settings.secret_key if args.sender else None
    with _engine(url, create=False) as engine, Session(engine) as session:
        built = report.build_report(session, period, sender=args.sender, key=key)
    if args.format == "png":
        out = args.out or args.settings.var_dir / f"report-{period.label}.png"
        try:
            chart = report.to_png(built, out)
        except report.FontMissing as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"{chart.path}: {period.title}, labels in {chart.font.name}")
        return 0
    render = {"text": report.to_text, "json": report.to_json, "csv": report.to_csv}[args.format]
    sys.stdout.write(render(built))
    return 0


def cmd_calllog_consume(args, url: str) -> int:
    from hotline.calllog import consume_all

    key = args.settings.secret_key
    with _engine(url) as engine:
        total = consume_all(engine, key, batch=args.batch)
        print(f"{total} broker events consumed", file=sys.stderr)
        try:
            while args.follow:
                time.sleep(args.interval)
                n = consume_all(engine, key, batch=args.batch)
                if n:
                    total += n
                    print(f"{n} broker events consumed ({total} in all)", file=sys.stderr)
        except KeyboardInterrupt:
            pass
    return 0


def _ticket_line(t) -> str:
    # A list goes to terminals, scrollback and files: every number in it masked (`hotline ticket N`
    # shows the one ticket's phone to whoever handles it).
    phone = privacy.mask_phone(t.phone) if t.phone else "-"
    hospital, occurred, description = (privacy.mask_text(v) for v in (t.hospital, t.occurred, t.description))
    return f"{t.number}\t{t.kind}\t{t.status}\t{hospital}\t{occurred}\t{phone}\t{description[:40]}"


def cmd_tickets(args, url: str) -> int:
    from hotline import tickets

    with _engine(url, create=False) as engine, Session(engine) as session:
        rows = tickets.list_tickets(session, status=args.status, kind=args.kind)
        for t in rows:
            print(_ticket_line(t))
    print(f"{len(rows)} work order(s)", file=sys.stderr)
    return 0


def cmd_ticket(args, url: str) -> int:
    from hotline import tickets

    if args.status and not args.actor:
        print("error: --status needs --actor (who makes the change)", file=sys.stderr)
        return 2
    try:
        with _engine(url, create=bool(args.status)) as engine, Session(engine) as session, session.begin():
            if args.status:
                tickets.change_status(session, args.number, args.status, actor=args.actor, note=args.note)
            t = tickets.get_ticket(session, args.number)
            print(f"{t.number} {t.kind} {t.status}\n医院：{t.hospital}\n时间：{t.occurred}\n"
                  f"联系电话：{t.phone or '未留'}\n经过：{t.description}")
            for change in t.changes:
                print(f"  {change.at:%Y-%m-%d %H:%M} {change.actor}: {change.from_status or '-'} → {change.to_status}"
                      + (f"（{change.note}）" if change.note else ""))
    except (tickets.TicketNotFound, tickets.TicketError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_work_order(args, url: str) -> int:
    from hotline import tickets

    try:
        with _engine(url) as engine, Session(engine) as session, session.begin():
            t = tickets.register_work_order(session, kind=args.kind, hospital=args.hospital,
                                            description=args.description, occurred=args.occurred,
                                            phone=args.phone, actor=args.actor)
            print(t.number)
    except tickets.TicketError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_agent_add(args, url: str) -> int:
    from hotline import agents as console

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        import getpass

        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            print("error: the two passwords differ; nothing was created", file=sys.stderr)
            return 1
    try:
        with _engine(url) as engine, Session(engine) as session, session.begin():
            agent = console.add_agent(session, args.name, password)
            print(f"agent {agent.name} created: log in at /console/login")
    except console.AgentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_agent_list(args, url: str) -> int:
    from hotline import agents as console

    with _engine(url, create=False) as engine, Session(engine) as session:
        rows = console.agents(session)
        for a in rows:
            last = f"{a.last_login:%Y-%m-%d %H:%M} UTC" if a.last_login else "never"
            print(f"{a.name}\t{'active' if a.active else 'disabled'}\tlast login {last}")
    print(f"{len(rows)} agent(s)", file=sys.stderr)
    return 0


def cmd_agent_disable(args, url: str) -> int:
    from hotline import agents as console

    try:
        with _engine(url) as engine, Session(engine) as session, session.begin():
            console.disable_agent(session, args.name)
    except console.AgentNotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"agent {args.name} disabled; their sessions are closed")
    return 0


def cmd_db_upgrade(args, url: str) -> int:
    where = make_url(url).render_as_string(hide_password=True)
    before = migrate.current(url)
    after = migrate.upgrade(url, args.revision)
    print(f"{where}: {before.revision or 'none'}{' (made before migrations: stamped 0001)' if before.legacy else ''}"
          f" -> {after}")
    return 0


def cmd_db_current(args, url: str) -> int:
    status = migrate.current(url)
    print(f"{make_url(url).render_as_string(hide_password=True)}: {status}")
    return 0 if status.up_to_date else 1


if __name__ == "__main__":
    sys.exit(main())
