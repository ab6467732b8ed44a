"""Input text is data, never code.

Geosite names and descriptions carrying template delimiters (Jinja, ``${}``),
``</script>``, ``<!--``, quotes of every kind, backslashes, NUL and control
characters, right-to-left overrides, emoji, mathtext (``$x$``) and
10,000-character texts go through the real commands: ``zones``, ``webmap``,
``maps``, ``dossiers`` and ``publish`` (against the suite's PostGIS server).
Each must succeed, run none of the injected code (the payloads would create a
folder or set a browser global) and show the text literally: in the web map in
headless Chromium (popup and tooltip text), in the dossier HTML (parsed text)
and PDF (pdfplumber), in the map sheets' PDF text, in the GeoPackage and in the
database.

"Literally" means: the text as the ingest stores it. The ingest changes input
text in exactly these ways (see README, "Text is data"): NFC, Ð → Đ, runs of
whitespace (tabs, line breaks) collapsed to one space and trimmed, and control
characters (NUL, C0, DEL, C1, U+FFFE/U+FFFF) removed
(:func:`pipeline.vntext.remove_control_characters`). :func:`stored` restates
that rule independently of the pipeline's code.
"""

from __future__ import annotations

import csv
import html.parser
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pdfplumber
import pyogrio
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pipeline.cli.main import cli
from pipeline.config import load_config
from pipeline.dossiers.data import load_heritage
from pipeline.dossiers.render import environment
from pipeline.legacy_encodings import repair_values
from pipeline.vntext import remove_control_characters, to_nfc
from pipeline.webmap import build_webmap, read_webmap_layers, render_webmap
from tests import test_webmap_browser
from tests.conftest import RAW
from tests.postgis import create_geopark_database, postgis_available, running_server
from tests.test_webmap_browser import open_page

# Every command on the whole sample, dossiers and sheets included: 6–8 minutes on a quiet
# 2-core machine, twice that when the machine is shared.
pytestmark = pytest.mark.timeout(1800)

#: the suite's headless Chromium (a module-scoped fixture of the browser tests)
chromium = test_webmap_browser.browser

# Payloads that would create a folder named after a Jinja global in the working
# directory if a template engine ever compiled them (the hole `geopark webmap`
# had: folium renders each layer's data through Jinja a second time).
JINJA_MKDIR = "{{ cycler.__init__.__globals__.os.mkdir(cycler.__name__) }}"
JINJA_MKDIR_STATEMENT = "{% set _ = joiner.__init__.__globals__.os.mkdir(joiner.__name__) %}"
CANARY_FOLDERS = ("Cycler", "Joiner")
SCRIPT_BREAK = "</script><script>window.__pwned = 1</script>"

NASTY_NAMES = [
    "{{7*7}}",
    JINJA_MKDIR,
    JINJA_MKDIR_STATEMENT,
    "{# unclosed comment",
    "{{ unclosed",
    "{% endfor %} {%- raw %}",
    "${7*7} #{7*7} <%= 7*7 %> [[7*7]]",
    SCRIPT_BREAK,
    "<!-- <script> -->",
    '<img src=x onerror="window.__pwned = 2">',
    "Quotes ' \" ` ‘ ’ “ ” « » „ ‹ ›",
    "back\\slash \\u003c \\n \\x00 \\",
    "Hang \u202etxet\u202c ngược \u200fמערה\u200e",
    "Emoji 🏞️ 👩‍👩‍👧 🇻🇳 🦇",
    "Mathtext $x$ and $\\frac{1}{2}$ and a lone $",
    "Robert'); DROP TABLE geopark.geosites;-- 50% _x_ \\. :name %(x)s",
    "Controls\x01 and\x02control\x1b[31m chars\x7f\x85\x9b\ufffe end",
    "tab\there\nnew line\r\nend",
    "&amp; &lt;not a tag&gt; &#x41;",
    "[bold]rich[/bold] [/] markup",
    "Động Tam Thanh {{ 7*7 }} Ðông",
]
LONG_DESCRIPTION = ("Mô tả rất dài {{7*7}} </script> $x$ " * 400)[:10_000]
NASTY_DESCRIPTIONS = [
    LONG_DESCRIPTION,
    JINJA_MKDIR,
    SCRIPT_BREAK + " <!-- \u2028 \u2029",
    "{{ lipsum.__globals__ }} {% raw %}",
    "Mathtext $\\alpha$ $$ \\$",
]


def stored(raw: str) -> str:
    """How the ingest stores a text: NFC (Đ for Ð), controls removed, spaces collapsed."""
    lookalikes = str.maketrans({"\u00d0": "\u0110", "\u00f0": "\u0111", "\u0189": "\u0110"})
    text = unicodedata.normalize("NFC", raw.translate(lookalikes))
    text = re.sub(r"\s+", " ", text)
    text = "".join(c for c in text if not (unicodedata.category(c) == "Cc" or c in "\ufffe\uffff"))
    return unicodedata.normalize("NFC", re.sub(r"\s+", " ", text).strip())


# ------------------------------------------------------------------ helpers


def write_register(path: Path, texts: dict[str, dict[str, str]]) -> list[dict[str, str]]:
    """The sample geosite register with the given fields replaced, per geosite code."""
    with open(RAW / "geosites.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row.update(texts.get(row["geosite_code"], {}))
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return rows


def sample_codes() -> list[str]:
    with open(RAW / "geosites.csv", encoding="utf-8", newline="") as handle:
        return [row["geosite_code"] for row in csv.DictReader(handle)]


def nasty_texts() -> dict[str, dict[str, str]]:
    """A nasty name for every sample geosite (cycling), and nasty descriptions and English names."""
    texts = {}
    for i, code in enumerate(sample_codes()):
        texts[code] = {
            "name_vi": NASTY_NAMES[i % len(NASTY_NAMES)],
            "name_en": NASTY_NAMES[(i + 7) % len(NASTY_NAMES)],
            "description": NASTY_DESCRIPTIONS[i % len(NASTY_DESCRIPTIONS)],
        }
    return texts


def invoke(*args: str) -> None:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, (args, result.output, result.exception)


class _Cells(html.parser.HTMLParser):
    """The text of every ``td``, ``p`` and ``h1`` of a page (entities decoded)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.cells: list[str] = []
        self._open: list[str] | None = None
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("td", "p", "h1") and self._open is None:
            self._open, self._tag = [], tag
        elif self._open is not None and tag == "span":
            self._open.append("\n")  # h1: the English line is a span

    def handle_endtag(self, tag):
        if self._open is not None and tag == self._tag:
            self.cells.append("".join(self._open))
            self._open = None

    def handle_data(self, data):
        if self._open is not None:
            self._open.append(data)


def cells(page: str) -> list[str]:
    parser = _Cells()
    parser.feed(page)
    return parser.cells


def squeeze(text: str) -> str:
    """Text without any whitespace, to compare with text extracted from a PDF."""
    return re.sub(r"\s+", "", text)


def pdf_text(path: Path) -> str:
    """The text of a PDF, without the dossiers' page footers (so a text running over a
    page break reads on)."""
    with pdfplumber.open(path) as doc:
        pages = [page.extract_text() or "" for page in doc.pages]
    return "".join(re.sub(r"\n[^\n]*Trang / page \d+ / \d+$", "", page) for page in pages)


GEOSITE_POPUP = """
var id = 'geosite-' + arguments[0], found = null;
Object.keys(window.geoparkWebmap.overlays).forEach(function (key) {
    window.geoparkWebmap.overlays[key].eachLayer(function (l) {
        if (l.feature && l.feature.id === id) found = l;
    });
});
found.openPopup();
found.openTooltip();
var popup = found.getPopup().getElement().querySelector('.gp-popup');
var rows = {};
Array.prototype.forEach.call(popup.querySelectorAll('tr'), function (tr) {
    rows[tr.querySelector('th').firstChild.textContent] = tr.querySelector('td').textContent;
});
var state = {
    caption: popup.querySelector('caption').textContent,
    rows: rows,
    tooltip: found.getTooltip().getElement().textContent,
    elements: found.getPopup().getElement().querySelectorAll('img, script, b').length
        + found.getTooltip().getElement().querySelectorAll('img, script, b, .gp-tooltip *').length
};
found.closePopup();
found.closeTooltip();
return state;
"""


def check_webmap(page, code: str, name: str, description: str) -> None:
    """The popup and tooltip of geosite ``code`` show ``name`` and ``description`` as text."""
    state = page.js(GEOSITE_POPUP, code)
    assert state["caption"] == f"{code} — {name}"
    assert state["rows"]["Tên"] == (name or "—")
    assert state["rows"]["Mô tả"] == (description or "—")
    assert state["tooltip"] == f"{code} — {name}"
    assert state["elements"] == 0  # no element made from the text


def no_code_ran(page, workdir: Path) -> None:
    assert page.js("return typeof window.__pwned;") == "undefined"
    assert page.errors() == []
    assert [f for f in CANARY_FOLDERS if (workdir / f).exists()] == []


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    """Run in ``tmp_path``: a payload that created a folder would create it here."""
    before = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(before)


def hostile_config(write_config, register: Path) -> Path:
    def edit(raw):
        raw["inputs"]["geosites"]["path"] = str(register)

    return write_config(edit)


# ------------------------------------------------------------------ the ingest


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_ingest_removes_only_control_characters(raw: str) -> None:
    text = to_nfc(raw)
    assert text == stored(raw)
    assert not any(unicodedata.category(c) == "Cc" for c in text)
    assert unicodedata.is_normalized("NFC", text)
    # everything that is not a control character or whitespace is kept, in order
    kept = [c for c in stored(raw) if not c.isspace()]
    assert kept == [c for c in text if not c.isspace()]
    assert remove_control_characters(text) == text


# ------------------------------------------------------------------ fixed nasty cases


def test_nasty_texts_through_every_command(
    write_config, workdir: Path, chromium, tmp_path: Path
) -> None:
    register = tmp_path / "geosites.csv"
    texts = nasty_texts()
    write_register(register, texts)
    config = hostile_config(write_config, register)
    cfg = load_config(config)

    invoke("zones", "--config", str(config))
    gpkg = cfg.output_path("geopackage")
    geosites = pyogrio.read_dataframe(gpkg, layer="geosites").set_index("geosite_code")
    for code, fields in texts.items():
        for field, raw in fields.items():
            assert geosites.loc[code, field] == stored(raw), (code, field)

    invoke("webmap", "--config", str(config), "--no-tiles")
    page = open_page(chromium, cfg.webmap.output)
    for code, fields in texts.items():
        check_webmap(page, code, stored(fields["name_vi"]), stored(fields["description"]))
    no_code_ran(page, workdir)

    invoke("dossiers", "--config", str(config), "--no-pdf")
    for code, fields in texts.items():
        found = cells((cfg.dossiers.directory / f"{code}.html").read_text("utf-8"))
        name, name_en = stored(fields["name_vi"]), stored(fields["name_en"])
        assert name in found and name_en in found and stored(fields["description"]) in found
        heading = f"Hồ sơ điểm di sản {code}: {name}\nGeosite dossier {code}: {name_en}"
        assert heading in [re.sub(r"[ \n]*\n[ \n]*", "\n", c).strip() for c in found]
    # the PDF text (a few dossiers: WeasyPrint is slow): names without direction
    # overrides or emoji (their glyph order and fallback fonts are the renderer's),
    # and the whole long description
    in_pdf = [sample_codes()[i] for i in (0, 7, 10, 14, 16, 20)]
    invoke("dossiers", "--config", str(config), *(f"--geosite={c}" for c in in_pdf))
    for code, fields in ((c, texts[c]) for c in in_pdf):
        name = stored(fields["name_vi"])
        text = squeeze(pdf_text(cfg.dossiers.directory / f"{code}.pdf"))
        if not re.search("[\u200e\u200f\u202a-\u202e\U0001f000-\U0001ffff\ufe0f]", name):
            assert squeeze(name) in text, (code, name)
        if fields["description"] == LONG_DESCRIPTION:
            assert squeeze(stored(LONG_DESCRIPTION)) in text

    # the zoning sheets of three nasty names (all sheets take minutes): names in the
    # sheet's text as they are, "$x$" not turned into mathtext
    shown = ("{{7*7}}", "Mathtext $x$ and $\\frac{1}{2}$ and a lone $", JINJA_MKDIR)
    by_name = {stored(f["name_vi"]): code for code, f in texts.items()}
    units = sorted({geosites.loc[by_name[name], "unit_code"] for name in shown})
    invoke("maps", "--config", str(config), *(f"--unit={u}" for u in units))
    sheet_text = squeeze(
        "".join(pdf_text(cfg.maps.directory / "zoning" / f"{u}.pdf") for u in units)
    )
    for name in shown:
        assert squeeze(name) in sheet_text, name

    assert [f for f in CANARY_FOLDERS if (workdir / f).exists()] == []


@pytest.mark.postgis
@pytest.mark.skipif(not postgis_available(), reason="PostgreSQL 15 + PostGIS not installed")
def test_nasty_texts_are_published_as_they_are(write_config, workdir: Path, tmp_path, monkeypatch):
    register = tmp_path / "geosites.csv"
    texts = nasty_texts()
    write_register(register, texts)
    config = hostile_config(write_config, register)
    cfg = load_config(config)
    invoke("zones", "--config", str(config))
    with running_server() as pg:
        dbname = create_geopark_database(
            pg, cfg.database, "geopark_hostile", {"hostile_login": cfg.database.owner_role}
        )
        monkeypatch.setenv("DATABASE_URL", pg.url(dbname, "hostile_login"))
        invoke("publish", "--config", str(config))
        with pg.connect(dbname) as conn:
            rows = conn.execute(
                "SELECT geosite_code, name_vi, name_en, description FROM geopark.geosites"
            ).fetchall()
            tables = conn.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'geopark' "
                "AND tablename = 'geosites'"
            ).fetchone()[0]
    assert tables == 1
    published = {code: (vi, en, desc) for code, vi, en, desc in rows}
    assert published == {
        code: (stored(f["name_vi"]), stored(f["name_en"]), stored(f["description"]))
        for code, f in texts.items()
    }


def test_a_name_too_long_for_the_register_is_refused_clearly(write_config, tmp_path) -> None:
    """name_vi has maxLength 200 in schemas/geosites.schema.json: a 10,000-character
    name is refused naming the file, the row and the field, never run or crashed on."""
    register = tmp_path / "geosites.csv"
    code = sample_codes()[0]
    write_register(register, {code: {"name_vi": JINJA_MKDIR + "Đ" * 9_950}})
    config = hostile_config(write_config, register)
    before = Path.cwd()
    os.chdir(tmp_path)
    try:
        result = CliRunner().invoke(cli, ["zones", "--config", str(config)])
    finally:
        os.chdir(before)
    assert result.exit_code == 1, result.output  # rows were rejected: outputs not updated
    refusal = [line for line in result.output.splitlines() if "trường name_vi" in line]
    assert len(refusal) == 1 and "geosites.csv" in refusal[0] and "200" in refusal[0]
    assert "Traceback" not in result.output
    assert [f for f in CANARY_FOLDERS if (tmp_path / f).exists()] == []


# ------------------------------------------------------------------ properties

TEMPLATE_BITS = ["{{", "}}", "{%", "%}", "{#", "#}", "${", "}", "<%", "%>", "</script>", "<!--"]
SPECIALS = [*"'\"`‘’“”\\$&<>%:;[]", "\x00", "\x1b", "\u202e", "\u200f", "\u2028", "🦇"]
hostile_text = st.lists(
    st.one_of(
        st.sampled_from(TEMPLATE_BITS + SPECIALS),
        st.text(min_size=1, max_size=6),
    ),
    max_size=25,
).map("".join)
hostile_name = hostile_text.map(lambda t: t[:200]).filter(lambda t: stored(t) != "")
# In a CSV register: no NUL (a CSV file holding NUL bytes is refused as not a text
# table) and few other controls (many make it look binary too).
register_text = st.lists(
    st.one_of(
        st.sampled_from([b for b in TEMPLATE_BITS + SPECIALS if b != "\x00"]),
        st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=6),
    ),
    max_size=25,
).map("".join)
register_name = register_text.map(lambda t: t[:200]).filter(lambda t: stored(t) != "")


def _value(value) -> str:
    """A GeoPackage attribute as text ('' for a missing one)."""
    return "" if value is None or (isinstance(value, float) and value != value) else str(value)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=hostile_name, description=hostile_text)
def test_webmap_shows_any_text_literally(chromium, sample_run, sample_gpkg, name, description):
    """Any text in the GeoPackage (even one the ingest would have cleaned) is shown as it is."""
    cfg, _ = sample_run
    layers = read_webmap_layers(sample_gpkg)
    geosites = layers["geosites"].copy()
    code = str(geosites["geosite_code"].iloc[0])
    geosites.loc[geosites.index[0], ["name_vi", "description"]] = [name, description]
    layers["geosites"] = geosites
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        before = Path.cwd()
        os.chdir(workdir)
        try:
            page_html = render_webmap(build_webmap(layers, cfg, tiles=False))
        finally:
            os.chdir(before)
        page_path = workdir / "page.html"
        page_path.write_text(page_html, "utf-8")
        page = open_page(chromium, page_path)
        check_webmap(page, code, name, description if description.strip() else "")
        no_code_ran(page, workdir)


@settings(max_examples=10, deadline=None)
@given(name=hostile_name, description=hostile_text)
def test_dossier_html_shows_any_text_literally(sample_gpkg, name, description):
    from pipeline.dossiers.content import dossier_context

    heritage = load_heritage(sample_gpkg)
    code = str(heritage.geosites["geosite_code"].iloc[0])
    heritage.geosites.loc[heritage.geosites.index[0], ["name_vi", "description"]] = [
        name,
        description,
    ]
    sheet = {"unit_code": "X", "image": None, "pdf": None, "expected": "x.png"}
    ctx = dossier_context(heritage, code, sheet=sheet, inspections=None, database=False)
    page = (
        environment()
        .get_template("dossier.html.j2")
        .render(
            site=ctx,
            park=load_config(Path(__file__).parents[1] / "geopark.toml").park,
            sample_note="",
            illustrative_note="",
            fonts=[],
            generated="now",
            version="test",
            values={},
        )
    )
    found = cells(page)
    # html.parser hands back NUL as it is; every other character must be the text itself
    assert name in found
    assert (description or "—") in found or (not description.strip() and "—" in found)


@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=register_name, name_en=register_name, description=register_text)
def test_any_register_text_goes_through_zones_webmap_and_dossiers(
    write_config, chromium, name, name_en, description
):
    # A column of Latin-1 letters that all read as TCVN3 or VNI Vietnamese is
    # converted on purpose (tests/test_encodings.py); this test is about the rest
    for text in (name, name_en, description):
        assume(repair_values([text])[1] is None)
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        before = Path.cwd()
        os.chdir(workdir)
        try:
            register = workdir / "geosites.csv"
            code = sample_codes()[0]
            raw = {"name_vi": name, "name_en": name_en, "description": description}
            write_register(register, {code: raw})
            config = hostile_config(write_config, register)
            cfg = load_config(config)
            invoke("zones", "--config", str(config))
            stored_row = pyogrio.read_dataframe(
                cfg.output_path("geopackage"), layer="geosites"
            ).set_index("geosite_code")
            for field, value in raw.items():
                expected = stored(value)
                assert _value(stored_row.loc[code, field]) == expected, field
            target = workdir / "page.html"
            invoke("webmap", "--config", str(config), "--no-tiles", "--output", str(target))
            page = open_page(chromium, target)
            check_webmap(page, code, stored(name), stored(description))
            no_code_ran(page, workdir)
            invoke("dossiers", "--config", str(config), "--no-pdf", "--geosite", code)
            found = cells((cfg.dossiers.directory / f"{code}.html").read_text("utf-8"))
            assert stored(name) in found and stored(name_en) in found
        finally:
            os.chdir(before)


def test_css_strings_print_any_text_literally(tmp_path: Path) -> None:
    """Text placed in the dossiers' stylesheet (the park name in the page footer) is a
    CSS string that no quote, backslash, brace or closing tag can end."""
    from weasyprint import HTML

    from pipeline.dossiers.render import css_string

    texts = [
        'Công viên "địa chất" \\ Lạng Sơn',
        "'; } body { display: none } .x { content: '",
        "</style><script>window.__pwned = 1</script>",
        "{{7*7}} $x$ \\A line\\\nbreak",
    ]
    rules = "".join(
        f".t{i}::before {{ content: {css_string(text)}; }}" for i, text in enumerate(texts)
    )
    divs = "".join(f'<div class="t{i}"></div>' for i in range(len(texts)))
    HTML(string=f"<html><head><style>{rules}</style></head><body>{divs}</body></html>").write_pdf(
        tmp_path / "css.pdf"
    )
    with pdfplumber.open(tmp_path / "css.pdf") as doc:
        lines = doc.pages[0].extract_text().split("\n")
    # one line per text, each the text itself (its line break printed as a space)
    assert [squeeze(line) for line in lines] == [squeeze(t) for t in texts]
