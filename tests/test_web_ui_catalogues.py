"""Every UI string used in the page templates and UI code is translated in all six locales,
and the chart helpers escape what they draw."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from tastegraph.web.ui import svg
from tastegraph.web.ui.catalogues import missing, used_messages
from tastegraph.web.ui.i18n import LOCALES, Catalogues, from_accept_language, negotiate


def test_messages_are_found() -> None:
    used = used_messages()
    assert "Log in" in used  # a template string
    assert "Wrong user name or password." in used  # page.gettext in Python
    assert "Charts" in used  # an N_() marker
    assert used["person"].plural == "people"


@pytest.mark.parametrize("locale", LOCALES)
def test_every_used_message_is_translated(locale: str) -> None:
    gaps = missing(locale)
    assert not gaps, (
        f"{len(gaps)} UI strings are missing, empty or fuzzy in the {locale} catalogues "
        "(src/tastegraph/web/translations/" + locale + "/LC_MESSAGES/*.po); run "
        "`python -m tastegraph.web.ui.catalogues` to list them:\n"
        + "\n".join(f"  {g.msgid!r} ({g.locations[0]})" for g in gaps[:20])
    )


def test_domains_are_merged(tmp_path: object) -> None:
    from pathlib import Path

    root = Path(str(tmp_path))
    folder = root / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "a.po").write_text('msgid "One"\nmsgstr "Un"\n', encoding="utf-8")
    (folder / "b.po").write_text(
        'msgid "Two"\nmsgstr "Deux"\n\n#, fuzzy\nmsgid "Three"\nmsgstr "Trois"\n', encoding="utf-8"
    )
    for other in LOCALES:
        (root / other / "LC_MESSAGES").mkdir(parents=True, exist_ok=True)
    french = Catalogues.load(root).translations["fr"]
    assert french.gettext("One") == "Un"
    assert french.gettext("Two") == "Deux"
    assert french.gettext("Three") == "Three"  # fuzzy: not used until reviewed


def test_negotiation_order() -> None:
    assert negotiate(chosen="de", user_setting="fr", accept_language="ja") == "de"
    assert negotiate(chosen=None, user_setting="pt-BR", accept_language="ja") == "pt"
    assert negotiate(chosen=None, user_setting="ko", accept_language="ko, es;q=0.4") == "es"
    assert negotiate(chosen=None, user_setting=None, accept_language="ko") == "en"
    assert from_accept_language("fr;q=0.2, ja;q=0.9") == "ja"
    assert from_accept_language("de;q=0, en-GB") == "en"


def test_svg_helpers_escape_and_label() -> None:
    chart = svg.bar_chart(
        [("<script>x</script>", 3), ("Ök & Co", 1)],
        title='Top "artists"',
        links=["/a?b=1&c=2", None],
    )
    assert isinstance(chart, Markup)
    assert "<script>x" not in chart
    assert "&lt;script&gt;x&lt;/script&gt;" in chart
    assert "Ök &amp; Co" in chart
    assert 'href="/a?b=1&amp;c=2"' in chart
    assert 'role="img"' in chart
    assert "aria-labelledby" in chart
    assert "<title" in chart
    assert "Top &#34;artists&#34;" in chart
    clock = svg.heatmap(
        [[0] * 24 for _ in range(7)], title="Clock", row_labels=svg.weekday_names("fr")
    )
    assert "lun." in clock
    assert clock.count("<rect") == 7 * 24
    line = svg.line_chart([("1 May", 3), ("2 May", 5), ("3 May", 0)], title="Days")
    assert "<polyline" in line
    assert "<polygon" in line
    spread = svg.histogram([1, 2, 2, 3, 10], title="Spread", bins=3)
    assert spread.count('class="bar"') == 3
    assert svg.bar_chart([], title="Empty").startswith("<svg")
