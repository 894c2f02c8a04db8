"""Translation catalogs: one shared catalog (incubator/translations) for the pages and modules that
belong to no single feature, plus one per feature package that has a `translations/` folder, so a
feature owns its strings. Source strings are English msgids; zh_CN is the default interface
language and must be complete.

    flask i18n update    extract strings and update every zh_CN catalog (new entries are empty)
    flask i18n compile   compile .po → .mo (the Makefile runs it)
    flask i18n check     list msgids without a Chinese translation (the test suite runs it too)
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import click
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent
# Babel parses "zh_CN" as zh_Hans_CN and Flask-Babel looks the catalog up under that name.
LOCALE = "zh_Hans_CN"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None,
            "pgettext": ((1, "c"), 2), "npgettext": ((1, "c"), 2, 3), "lazy_ngettext": (1, 2)}
METHOD_MAP = [("**.py", "python"), ("**.html", "jinja2"), ("**.txt", "jinja2")]


@dataclass(frozen=True)
class CatalogSpec:
    name: str
    sources: tuple[Path, ...]
    directory: Path
    skip: tuple[str, ...] = ()

    @property
    def po_path(self) -> Path:
        return self.directory / LOCALE / "LC_MESSAGES" / "messages.po"


def catalogs() -> list[CatalogSpec]:
    features = sorted(p.parent.name for p in PACKAGE.glob("*/translations") if p.is_dir())
    specs = [CatalogSpec("core", (PACKAGE, ROOT / "templates"), PACKAGE / "translations", tuple(features))]
    for feature in features:
        specs.append(CatalogSpec(feature, (PACKAGE / feature, ROOT / "templates" / feature),
                                 PACKAGE / feature / "translations"))
    return specs


def extract(spec: CatalogSpec) -> Catalog:
    catalog = Catalog(locale=None, project="qcc-incubator", charset="utf-8")
    for source in spec.sources:
        if not source.is_dir():
            continue

        for filename, lineno, message, comments, context in extract_from_dir(
            str(source), METHOD_MAP, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",), strip_comment_tags=True,
            options_map={"**.html": {"extensions": "jinja2.ext.do"}, "**.txt": {"extensions": "jinja2.ext.do"}},
        ):
            rel = Path(source / filename).resolve().relative_to(ROOT)
            parts = rel.parts
            if spec.skip and (
                (len(parts) > 2 and parts[0] == "incubator" and parts[1] in spec.skip)
                or (len(parts) > 2 and parts[0] == "templates" and parts[1] in spec.skip)
            ):
                continue
            if spec.name == "core" and source == PACKAGE and parts[:2] == ("incubator", "translations"):
                continue
            catalog.add(message, None, [(str(rel), lineno)], auto_comments=comments, context=context)
    return catalog


def load_po(spec: CatalogSpec) -> Catalog:
    if not spec.po_path.exists():
        return Catalog(locale=LOCALE)
    with spec.po_path.open("rb") as fh:
        return read_po(fh, locale=LOCALE)


def update(spec: CatalogSpec) -> int:
    template = extract(spec)
    catalog = load_po(spec)
    catalog.update(template, no_fuzzy_matching=True)
    spec.po_path.parent.mkdir(parents=True, exist_ok=True)
    with spec.po_path.open("wb") as fh:
        write_po(fh, catalog, width=100, omit_header=False, ignore_obsolete=True, include_previous=False)
    return len(template)


def compile_catalog(spec: CatalogSpec) -> None:
    catalog = load_po(spec)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    spec.po_path.with_suffix(".mo").write_bytes(buf.getvalue())


def missing(spec: CatalogSpec) -> list[str]:
    """msgids used in the code but not translated (absent, empty or fuzzy) in the zh_CN catalog."""
    template = extract(spec)
    catalog = load_po(spec)
    problems = []
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id, context=message.context)
        strings = found.string if found is not None else None
        if isinstance(strings, (tuple, list)):
            empty = not all(strings)
        else:
            empty = not strings
        if found is None or empty or found.fuzzy:
            msgid = message.id if isinstance(message.id, str) else message.id[0]
            problems.append(f"{spec.name}: {msgid!r} ({message.locations[0][0]}:{message.locations[0][1]})")
    return problems


def register(app) -> None:
    group = click.Group("i18n", help="Manage translation catalogs.")

    def selected(name: str | None) -> list[CatalogSpec]:
        specs = [s for s in catalogs() if name in (None, s.name)]
        if not specs:
            raise click.ClickException(f"no catalog named {name!r}; a feature gets one by having a translations/ folder")
        return specs

    @group.command("update")
    @click.option("--catalog", default=None, help="Only this catalog: core or a feature package name.")
    def update_cmd(catalog):
        for spec in selected(catalog):
            click.echo(f"{spec.name}: {update(spec)} messages → {spec.po_path.relative_to(ROOT)}")

    @group.command("compile")
    def compile_cmd():
        for spec in catalogs():
            compile_catalog(spec)
        click.echo(f"compiled {len(catalogs())} catalogs")

    @group.command("check")
    @click.option("--catalog", default=None, help="Only this catalog: core or a feature package name.")
    def check_cmd(catalog):
        problems = [p for spec in selected(catalog) for p in missing(spec)]
        for p in problems:
            click.echo(p)
        if problems:
            raise click.ClickException(f"{len(problems)} strings lack a Chinese translation")
        click.echo("all strings translated")

    app.cli.add_command(group)
