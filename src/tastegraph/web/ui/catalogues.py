"""Which UI strings the code uses and which catalogue lacks them (a developer's tool and the
check behind tests/test_web_ui_catalogues.py).

    python -m tastegraph.web.ui.catalogues            # every msgid missing, per locale
    python -m tastegraph.web.ui.catalogues --pot FILE # write a template of all UI msgids

Strings are found in the page templates (``templates/ui/**.html``: ``_()``, ``ngettext()``,
``{% trans %}``) and in the UI's Python code (``web/ui/**.py``: ``page.gettext()``,
``page.ngettext()``, ``N_()``), the same sources ``babel.cfg`` gives ``pybabel extract``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import write_po

from tastegraph.web.ui.i18n import LOCALES, TRANSLATIONS_DIR, read_catalogue

WEB_DIR = Path(__file__).resolve().parents[1]
METHOD_MAP = [
    ("templates/ui/**.html", "jinja2.ext:babel_extract"),
    ("ui/**.py", "python"),
]
OPTIONS_MAP = {"templates/ui/**.html": {"extensions": "jinja2.ext.i18n"}}
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "N_": None,
}


@dataclass(frozen=True)
class UsedMessage:
    msgid: str
    plural: str | None
    locations: tuple[str, ...]


def used_messages(web_dir: Path = WEB_DIR) -> dict[str, UsedMessage]:
    """Every msgid the UI code and templates use, with where it is used."""
    found: dict[str, tuple[str | None, list[str]]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        web_dir,
        METHOD_MAP,
        OPTIONS_MAP,
        keywords=KEYWORDS,
        comment_tags=(),
        strip_comment_tags=True,
    ):
        singular, plural = (
            (message[0], message[1]) if isinstance(message, tuple) else (message, None)
        )
        if not singular:
            continue
        entry = found.setdefault(singular, (plural, []))
        entry[1].append(f"{filename}:{lineno}")
    return {
        msgid: UsedMessage(msgid, plural, tuple(places))
        for msgid, (plural, places) in found.items()
    }


def missing(
    locale: str, root: Path = TRANSLATIONS_DIR, web_dir: Path = WEB_DIR
) -> list[UsedMessage]:
    """Used msgids that ``locale``'s catalogues lack, leave empty or mark fuzzy."""
    catalogue = read_catalogue(locale, root)
    out = []
    for used in used_messages(web_dir).values():
        message = catalogue.get(used.msgid)
        strings = (
            message.string
            if message is not None and isinstance(message.string, tuple)
            else (message.string,)
            if message is not None
            else ()
        )
        forms = catalogue.num_plurals if used.plural else 1
        if message is None or message.fuzzy or len(strings) != forms or not all(strings):
            out.append(used)
    return out


def pot(web_dir: Path = WEB_DIR) -> Catalog:
    template = Catalog(project="tastegraph", fuzzy=False)
    for used in used_messages(web_dir).values():
        msgid = (used.msgid, used.plural) if used.plural else used.msgid
        template.add(
            msgid,
            locations=[(p.rsplit(":", 1)[0], int(p.rsplit(":", 1)[1])) for p in used.locations],
        )
    return template


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pot", type=Path, help="write a .pot template of every UI msgid")
    args = parser.parse_args(argv)
    if args.pot:
        with args.pot.open("wb") as handle:
            write_po(handle, pot(), width=100)
        return 0
    gaps = 0
    for locale in LOCALES:
        for used in missing(locale):
            gaps += 1
            sys.stdout.write(f"{locale}\t{used.msgid!r}\t{used.locations[0]}\n")
    return 1 if gaps else 0


if __name__ == "__main__":
    raise SystemExit(main())
