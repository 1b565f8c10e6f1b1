"""The documentation site: its generators, and the built site in a real headless Chromium.

The first tests check the build-time generators without building (they run everywhere).

The browser tests (marker ``browser``, run by ``.ci/docs.sh``) build the site with
``mkdocs build --strict`` (or use ``ADAMPROOFS_DOCS_SITE``, a directory already built), serve it
on 127.0.0.1 and drive Debian's ``chromium`` through the Chrome DevTools Protocol
(``websocket-client``). Every page is opened at desktop width (1280 px) and at phone width
(390 px), with every collapsible block opened, and must show:

- no console error, no failed request, no request leaving 127.0.0.1 (others are blocked);
- no horizontal overflow of the page: an element wider than the screen must sit inside a box
  that scrolls sideways on its own (display math, tables, code), nothing may be cut off by a
  box that hides its overflow, and nothing may start left of a scrolling box's first position;
- its math typeset by KaTeX: no raw TeX (``$$``, ``\\frac``, ...) and no reST ``:math:`` left
  in the text;
- every image decoded (``naturalWidth > 0``), and every build-time figure shown at no less
  than :data:`FIGURE_MIN_SCALE` of its drawn size (so its 11-point text stays legible).

Screenshots of a few pages at both widths are saved in ``artifacts/screenshots/``.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import http.server
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1280,900",
]
#: The widths every page is checked at: a desktop window and a phone (CSS pixels).
WIDTHS = (1280, 390)
#: The smallest displayed/drawn size ratio of a build-time figure (11-point text stays >= 8 px).
FIGURE_MIN_SCALE = 0.55
#: Pages saved as screenshots (at every width).
SCREENSHOT_PAGES = {
    "": "home",
    "math/bias-correction/": "bias-correction",
    "math/step-size/": "step-size",
    "api/": "api",
}
#: Pages whose Markdown has math; each must show KaTeX output.
MATH_PAGES = (
    "algorithm/",
    "math/moments/",
    "math/decay-rates/",
    "math/bias-correction/",
    "math/step-size/",
    "math/scale-invariance/",
    "math/sparsity/",
    "math/non-stationarity/",
    "math/adamax/",
    "math/derivations/",
    "errata/",
    "api/",
)
PAGE_TIMEOUT = 30.0


def _toolchain_missing() -> str | None:
    """Why the site cannot be built here (None if it can, or if one is given)."""
    if os.environ.get("ADAMPROOFS_DOCS_SITE"):
        return None
    try:
        import material  # noqa: F401
        import mkdocs  # noqa: F401
        import mkdocstrings  # noqa: F401
    except ImportError as err:
        return f"the docs toolchain is not installed ({err.name}): pip install adamproofs[docs]"
    return None


def _requirements() -> str | None:
    if CHROMIUM is None:
        return "chromium is not installed (apt-get install -y chromium chromium-driver)"
    try:
        import websocket  # noqa: F401
    except ImportError:
        return "websocket-client is not installed (pip install websocket-client)"
    return _toolchain_missing()


#: Why the browser tests (marker ``browser``) are skipped here; None when they can run.
_MISSING = _requirements()


# --- the site and its server ------------------------------------------------------------------


@pytest.fixture(scope="module")
def site_dir() -> Iterator[Path]:
    given = os.environ.get("ADAMPROOFS_DOCS_SITE")
    if given:
        assert Path(given, "index.html").is_file(), f"ADAMPROOFS_DOCS_SITE={given} has no site"
        yield Path(given)
        return
    with tempfile.TemporaryDirectory(prefix="adamproofs-site-") as tmp:
        print("building the site (mkdocs build --strict) ...", file=sys.stderr, flush=True)
        proc = subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", tmp],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env=dict(os.environ, NO_MKDOCS_2_WARNING="1"),
        )
        assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stderr[-5000:]}"
        yield Path(tmp)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def base_url(site_dir: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def site_pages(site: Path) -> list[str]:
    """Every HTML page of the site, as paths relative to its root ('' is the home page)."""
    pages = []
    for path in sorted(site.rglob("index.html")):
        rel = path.parent.relative_to(site).as_posix()
        pages.append("" if rel == "." else rel + "/")
    return pages


# --- a minimal Chrome DevTools Protocol client ------------------------------------------------


class Browser:
    """Headless Chromium with a fresh profile; one page target driven over CDP."""

    def __init__(self) -> None:
        if CHROMIUM is None:
            raise RuntimeError("chromium is not installed")
        self.profile = tempfile.mkdtemp(prefix="adamproofs-chromium-")
        self.proc = subprocess.Popen(
            [
                CHROMIUM,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={self.profile}",
                "--remote-debugging-port=0",
                "--remote-debugging-address=127.0.0.1",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = Path(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + 30
        while not (port_file.is_file() and port_file.read_text().strip()):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.close()
                raise RuntimeError("chromium did not start its DevTools endpoint")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        targets = json.loads(
            urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10).read()
        )
        page = next(t for t in targets if t["type"] == "page")
        import websocket

        self.ws = websocket.create_connection(
            page["webSocketDebuggerUrl"], timeout=PAGE_TIMEOUT, suppress_origin=True
        )
        self.ids = itertools.count(1)
        self.events: list[dict] = []

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ws.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)

    def _handle(self, message: dict) -> None:
        self.events.append(message)
        if message.get("method") == "Fetch.requestPaused":  # allow loopback, block the rest
            params = message["params"]
            host = urllib.parse.urlsplit(params["request"]["url"]).hostname
            if host == "127.0.0.1":
                self.send("Fetch.continueRequest", requestId=params["requestId"], wait=False)
            else:
                self.send(
                    "Fetch.failRequest",
                    requestId=params["requestId"],
                    errorReason="BlockedByClient",
                    wait=False,
                )

    def send(self, method: str, wait: bool = True, **params: object) -> dict:
        """Send a command; with ``wait``, process events until its reply arrives."""
        msg_id = next(self.ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        if not wait:
            return {}
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == msg_id:
                if "error" in message:
                    raise RuntimeError(f"CDP {method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self._handle(message)

    def pump(self, seconds: float) -> None:
        """Process events for a while (lets late requests and console messages arrive)."""
        import websocket

        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.ws.settimeout(left)
            try:
                message = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                break
            finally:
                self.ws.settimeout(PAGE_TIMEOUT)
            if "method" in message:
                self._handle(message)

    def evaluate(self, expression: str) -> Any:
        result = self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = PAGE_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not self.evaluate(expression):
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out waiting for {expression}")
            self.pump(0.1)

    def open(self, url: str) -> None:
        """Navigate and wait for the load event and quiet network."""
        self.pump(0.3)  # late events of the previous page are not this page's
        self.events.clear()
        self.send("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete'")
        self.pump(0.5)

    def set_width(self, width: int) -> None:
        """Emulate a screen ``width`` CSS pixels wide (a phone below 600)."""
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=900 if width >= 600 else 844,
            deviceScaleFactor=1,
            mobile=width < 600,
        )

    def screenshot(self, path: Path) -> None:
        data = self.send("Page.captureScreenshot", format="png")["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    b = Browser()
    try:
        for domain in ("Page", "Runtime", "Log", "Network"):
            b.send(f"{domain}.enable")
        b.send("Fetch.enable", patterns=[{"urlPattern": "*"}])
        b.set_width(1280)
        yield b
    finally:
        b.close()


# --- what every page must satisfy -------------------------------------------------------------

#: In the page (every <details> opened first): math elements and those KaTeX rendered, raw TeX
#: or reST left in the text, images, and the layout problems described in the module docstring.
PAGE_REPORT = r"""(() => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  const article = document.querySelector('article') || document.body;
  const math = [...article.querySelectorAll('.arithmatex')];
  const clone = article.cloneNode(true);
  clone.querySelectorAll('pre, code, .katex').forEach(e => e.remove());
  const text = clone.textContent;
  const raw = ['$$', '\\(', '\\[', '\\frac', '\\beta', '\\alpha', ':math:'].filter(
      s => text.includes(s));
  const vw = document.documentElement.clientWidth;
  const classes = e => typeof e.className === 'string' && e.className.trim() ?
      '.' + e.className.trim().split(/\s+/).join('.') : '';
  const describe = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + classes(e);
  const overflow = [], clipped = [], unreachable = [];
  if (document.documentElement.scrollWidth > vw + 1)
    overflow.push('the document is ' + document.documentElement.scrollWidth + ' px wide');
  for (const el of document.body.querySelectorAll('*')) {
    if (el instanceof SVGElement || el.closest('.katex-mathml')) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || getComputedStyle(el).visibility === 'hidden') continue;
    let box = el.parentElement;
    while (box && box !== document.body && getComputedStyle(box).overflowX === 'visible')
      box = box.parentElement;
    if (!box || box === document.body) {
      if (r.right > vw + 1) overflow.push(describe(el) + ' ends at ' + Math.round(r.right) + ' px');
      continue;
    }
    if (!article.contains(el) || box.closest('.katex')) continue;  // KaTeX clips its own glyphs
    const b = box.getBoundingClientRect(), mode = getComputedStyle(box).overflowX;
    if ((mode === 'hidden' || mode === 'clip') && (r.right > b.right + 1 || r.left < b.left - 1))
      clipped.push(describe(el) + ' cut off by ' + describe(box));
    else if (box.scrollLeft === 0 && r.left < b.left - 1)
      unreachable.push(describe(el) + ' starts left of ' + describe(box));
  }
  const images = [...document.images].map(i => ({
      src: i.src, ok: i.complete && i.naturalWidth > 0, figure: i.classList.contains('figure'),
      scale: i.naturalWidth ? i.getBoundingClientRect().width / i.naturalWidth : 0}));
  return {
    math: math.length,
    rendered: math.filter(e => e.querySelector('.katex')).length,
    katex: article.querySelectorAll('.katex').length,
    raw: raw, images: images, title: document.title,
    overflow: overflow.slice(0, 5), clipped: clipped.slice(0, 5),
    unreachable: unreachable.slice(0, 5),
  };
})()"""


def problems(events: list[dict]) -> dict[str, list[str]]:
    """Console errors, failed requests and off-site requests among the recorded CDP events."""
    found: dict[str, list[str]] = {"console": [], "failed": [], "offsite": []}
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            found["console"].append(
                " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            )
        elif method == "Runtime.exceptionThrown":
            found["console"].append(params["exceptionDetails"].get("text", "exception"))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            found["console"].append(params["entry"].get("text", ""))
        elif method == "Network.loadingFailed":
            found["failed"].append(f"{params.get('errorText')} ({params['requestId']})")
        elif method == "Network.responseReceived" and params["response"]["status"] >= 400:
            found["failed"].append(f"{params['response']['status']} {params['response']['url']}")
        elif method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            parts = urllib.parse.urlsplit(url)
            if parts.scheme not in ("data", "blob", "about") and parts.hostname != "127.0.0.1":
                found["offsite"].append(url)
    return found


def page_failures(page: str, report: dict, width: int) -> list[str]:
    """What is wrong with one page at one width, from :data:`PAGE_REPORT` (empty if nothing)."""
    where = f"{page or '(home)'} at {width} px"
    failures = []
    if page in MATH_PAGES and report["katex"] == 0:
        failures.append(f"{where}: no KaTeX output on a math page")
    if report["rendered"] != report["math"]:
        failures.append(
            f"{where}: {report['math'] - report['rendered']} of {report['math']} "
            f"math elements not rendered"
        )
    if report["raw"]:
        failures.append(f"{where}: raw TeX or reST left in the text: {report['raw']}")
    for kind in ("overflow", "clipped", "unreachable"):
        failures += [f"{where}: {kind}: {item}" for item in report[kind]]
    for image in report["images"]:
        if not image["ok"]:
            failures.append(f"{where}: image not loaded: {image['src']}")
        elif image["figure"] and "/figures/" in image["src"] and image["scale"] < FIGURE_MIN_SCALE:
            failures.append(
                f"{where}: figure {image['src']} shown at {image['scale']:.2f} of "
                f"its drawn size (< {FIGURE_MIN_SCALE}): its text is too small"
            )
    return failures


@pytest.mark.browser
@pytest.mark.skipif(_MISSING is not None, reason=str(_MISSING))
@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_loads_cleanly_and_fits_the_screen(
    site_dir: Path, base_url: str, browser: Browser, width: int
) -> None:
    pages = site_pages(site_dir)
    assert "" in pages and "math/bias-correction/" in pages, pages
    browser.set_width(width)
    failures = []
    try:
        for n, page in enumerate(pages, 1):
            print(f"[{width} px, {n}/{len(pages)}] {page or '(home)'}", file=sys.stderr, flush=True)
            browser.open(base_url + page)
            report = browser.evaluate(PAGE_REPORT)
            failures += page_failures(page, report, width)
            failures += [
                f"{page or '(home)'} at {width} px: {kind}: {item}"
                for kind, items in problems(browser.events).items()
                for item in items
            ]
            if page in SCREENSHOT_PAGES:
                browser.evaluate("window.scrollTo(0, 0), true")
                browser.screenshot(SCREENSHOTS / f"{SCREENSHOT_PAGES[page]}-{width}.png")
    finally:
        browser.set_width(1280)
    print(f"checked {len(pages)} pages at {width} px: {len(failures)} problems", file=sys.stderr)
    assert not failures, "\n".join(failures)


def test_the_layout_check_finds_overflow_clipping_and_raw_tex() -> None:
    """:func:`page_failures` reports each kind of problem the page script can find."""
    clean = {
        "math": 2,
        "rendered": 2,
        "katex": 2,
        "raw": [],
        "overflow": [],
        "clipped": [],
        "unreachable": [],
        "images": [{"src": "x/figures/a.svg", "ok": True, "figure": True, "scale": 0.8}],
    }
    assert page_failures("math/moments/", clean, 390) == []
    broken = dict(
        clean,
        rendered=1,
        raw=[":math:"],
        overflow=["div.x ends at 500 px"],
        clipped=["span cut off by div"],
        unreachable=["span starts left of div"],
        images=[
            {"src": "x/figures/a.svg", "ok": True, "figure": True, "scale": 0.3},
            {"src": "x/b.png", "ok": False, "figure": False, "scale": 0},
        ],
    )
    found = "\n".join(page_failures("math/moments/", broken, 390))
    for expected in (
        "1 of 2 math elements",
        ":math:",
        "overflow: div.x",
        "clipped: span",
        "unreachable: span",
        "shown at 0.30",
        "image not loaded: x/b.png",
    ):
        assert expected in found, expected
    assert "no KaTeX" in "\n".join(page_failures("math/moments/", dict(clean, katex=0), 390))


@pytest.mark.browser
@pytest.mark.skipif(_MISSING is not None, reason=str(_MISSING))
def test_math_is_typeset_again_after_instant_navigation(base_url: str, browser: Browser) -> None:
    """Material's instant navigation swaps the page without a reload; KaTeX must run again."""
    browser.open(base_url)
    browser.evaluate("document.querySelector('a[href$=\"math/step-size/\"]').click(), true")
    browser.wait_for("location.pathname.endsWith('/math/step-size/')")
    browser.wait_for("document.querySelectorAll('.arithmatex .katex').length > 0", timeout=10)
    report = browser.evaluate(PAGE_REPORT)
    assert report["math"] > 0 and report["rendered"] == report["math"], report
    assert not report["raw"], report
    found = problems(browser.events)
    assert not any(found.values()), found


@pytest.mark.browser
@pytest.mark.skipif(_MISSING is not None, reason=str(_MISSING))
def test_the_site_blocks_and_reports_an_offsite_request(base_url: str, browser: Browser) -> None:
    """The off-site check can fail: a request to another host is seen and blocked."""
    browser.open(base_url)
    browser.evaluate("fetch('http://offsite.invalid/x.js').catch(() => null), true")
    browser.pump(1.0)
    assert any("offsite.invalid" in url for url in problems(browser.events)["offsite"])


# --- the generators, without a browser --------------------------------------------------------


def test_every_line_of_the_annotated_algorithm_is_in_the_reference_source() -> None:
    from docs_build import algorithm

    for row in algorithm.ALGORITHM_1 + algorithm.VARIANTS:
        for fragment in row.fragments:
            lineno, line = algorithm.find_line(fragment)
            assert fragment in line and lineno > 0
    with pytest.raises(algorithm.AlgorithmSourceError, match="occurs 0 times"):
        algorithm.find_line("m = b1 * state['m'][i] + (one - b2) * g")


def test_every_directive_in_the_pages_names_a_known_generator() -> None:
    from docs_build import sources  # noqa: F401  (registers the generators)
    from docs_build.directives import DIRECTIVE, GENERATORS

    used = {
        m.group("body").split()[0]
        for page in (ROOT / "docs").rglob("*.md")
        for m in DIRECTIVE.finditer(page.read_text())
    }
    assert used, "no gen: directives found in docs/"
    assert used <= set(GENERATORS), used - set(GENERATORS)


def test_unknown_directive_fails_and_missing_pieces_degrade(monkeypatch, tmp_path) -> None:
    from docs_build import sources
    from docs_build.directives import Context, DirectiveError, expand

    ctx = Context(root=ROOT, page="math/x.md")
    with pytest.raises(DirectiveError, match="nonsense"):
        expand("text\n<!-- gen: nonsense 1 -->\n", ctx)
    with pytest.raises(KeyError, match="no derivation named 'no-such-thing'"):
        expand("<!-- gen: derivation no-such-thing  # what it is -->\n", ctx)
    # a checkout where the matrix was never written (this one may hold build/conformance/)
    monkeypatch.setenv("ADAMPROOFS_MATRIX_DIR", str(tmp_path / "no-such-dir"))
    sources.matrix_outputs.cache_clear()
    assert "Not generated yet" in expand("<!-- gen: matrix -->\n", Context(tmp_path, "x.md"))
    sources.matrix_outputs.cache_clear()


def test_a_directive_may_say_what_it_generates() -> None:
    """``# ...`` in a directive is for the reader of the raw page; the build ignores it."""
    from docs_build.directives import Context, expand

    ctx = Context(root=ROOT, page="math/step-size.md")
    plain = expand('<!-- gen: figure step-size "A caption" -->\n', ctx)
    assert (
        expand('<!-- gen: figure step-size "A caption"  # the figure # of steps -->\n', ctx)
        == plain
    )


def test_math_pages_say_what_each_generated_block_is() -> None:
    """On a code host the raw page shows the directive: each says what the site shows there
    (a figure says it through its caption)."""
    from docs_build.directives import DIRECTIVE

    for page in sorted((ROOT / "docs" / "math").glob("*.md")):
        for match in DIRECTIVE.finditer(page.read_text()):
            body = match.group("body")
            if not body.startswith("figure "):
                assert " # " in body, f"{page.name}: directive without an explanation: {body}"


def test_figure_links_are_relative_to_the_page() -> None:
    import docs_build.sources  # noqa: F401  (registers the generators)
    from docs_build.directives import Context, expand

    out = expand(
        '<!-- gen: figure step-size "A caption" -->\n', Context(root=ROOT, page="math/step-size.md")
    )
    assert "](../figures/step-size.svg)" in out and "*A caption*" in out
    out = expand(
        '<!-- gen: figure step-size "Steps $|\\Delta_t|/\\alpha$ at $\\beta_1 = 0.9$" -->\n',
        Context(root=ROOT, page="math/step-size.md"),
    )
    assert out.startswith("![Steps |Δt|/α at β1 = 0.9](../figures/step-size.svg)"), out
    assert "*Steps $|\\Delta_t|/\\alpha$ at $\\beta_1 = 0.9$*" in out  # typeset below


def test_docstring_rest_becomes_markdown() -> None:
    pytest.importorskip("griffe", reason="the docs toolchain (mkdocstrings) is not installed")
    from docs_build.griffe_docstrings import to_markdown

    text = (
        "Intro :math:`x^2` and :class:`~adamproofs.config.Adam`.\n\n.. math::\n\n"
        "    a = b\n\n>>> 1 + 1\n2\n"
    )
    out = to_markdown(text)
    assert "$x^2$" in out and "`Adam`" in out
    assert "$$\na = b\n$$" in out
    assert "```pycon\n>>> 1 + 1\n2\n```" in out
    # a role broken over two lines (as in adamproofs.reference.rules.adamax_step)
    out = to_markdown("AdaMax: :math:`\\theta_t = \\theta_{t-1} -\n    \\frac{a}{b}`.")
    assert out == "AdaMax: $\\theta_t = \\theta_{t-1} - \\frac{a}{b}$."
    assert ":math:" not in to_markdown(
        __import__("adamproofs.reference.rules").reference.rules.adamax_step.__doc__
    )


def test_step_size_figure_reaches_the_exact_worst_case_bound() -> None:
    """The plotted worst-case curve is the exact supremum S(t) of the step-size page."""
    from docs_build.figures import sparse_ratio, worst_case_ratio

    b1, b2 = 0.9, 0.999
    rho = b1 * b1 / b2

    def S(t: int) -> float:  # adam-math §4.3
        return (
            (1 - b1)
            / (1 - b1**t)
            * ((1 - b2**t) / (1 - b2)) ** 0.5
            * ((1 - rho**t) / (1 - rho)) ** 0.5
        )

    measured = worst_case_ratio("0.9", "0.999", 12)
    for t in (1, 2, 5, 12):
        assert measured[t - 1] == pytest.approx(S(t), rel=1e-12)
    r = sparse_ratio("0.9", "0.999", [1, 12, 106])  # r(1) = 1, min at 12, first > 1 at 106
    assert r[0] == pytest.approx(1, rel=1e-12)
    assert r[1] == pytest.approx(0.48142923, abs=1e-8) and r[2] > 1


def test_comparison_outputs_are_embedded_with_working_links(tmp_path, monkeypatch) -> None:
    """An `adamproofs compare` output tree (stand-in files) becomes one page's sections."""
    from docs_build import sources
    from docs_build.directives import Context, expand

    (tmp_path / "reddi").mkdir()
    (tmp_path / "summary.md").write_text("# Comparisons\n\n- [Reddi](reddi/summary.md)\n")
    (tmp_path / "reddi" / "summary.md").write_text(
        "# Reddi {C > 2}\n\n![traj](trajectory.svg)\n\n[numbers](results.csv)\n"
    )
    (tmp_path / "reddi" / "trajectory.svg").write_text("<svg/>")
    (tmp_path / "reddi" / "results.csv").write_text("a,b\n")
    monkeypatch.setenv("ADAMPROOFS_COMPARE_DIR", str(tmp_path))
    sources.compare_outputs.cache_clear()
    try:
        out = expand("<!-- gen: compare -->\n", Context(root=ROOT, page="comparisons.md"))
        files = sources.generated_tree(sources.COMPARE_PREFIX, sources.compare_outputs(ROOT))
    finally:
        sources.compare_outputs.cache_clear()
    assert "# Comparisons\n" not in out  # the page has its own title
    assert "- [Reddi](#compare-reddi)" in out
    assert "## Reddi &#123;C > 2&#125; { #compare-reddi }" in out
    assert "![traj](generated/compare/reddi/trajectory.svg)" in out
    assert "[numbers](generated/compare/reddi/results.csv)" in out
    assert set(files) == {
        "generated/compare/reddi/trajectory.svg",
        "generated/compare/reddi/results.csv",
    }


def test_benchmark_results_render_as_tables_and_figures(tmp_path) -> None:
    from docs_build import sources
    from docs_build.directives import Context, expand

    ctx = Context(root=tmp_path, page="performance.md")
    assert "Not generated yet" in expand("<!-- gen: benchmarks -->\n", ctx)
    results = tmp_path / "benchmarks" / "results"
    results.mkdir(parents=True)
    (results / "latest.json").write_text(
        json.dumps(
            {
                "schema": 1,
                "cpus": 2,
                "adam_step": [
                    {"dtype": "float32", "n": 10**7, "contender": "numba", "median_ms": 9.5}
                ],
                "adam_ratios": [{"dtype": "float32", "n": 10**7, "numba_vs_probe": 0.91}],
            }
        )
    )
    (results / "latest-adam-step.svg").write_text("<svg/>")
    out = expand("<!-- gen: benchmarks -->\n", ctx)
    assert out.index("numba_<wbr>vs_<wbr>probe") < out.index("median_<wbr>ms")  # ratios first
    assert "| float32 | 10000000 | 0.91 |" in out and "- **cpus**: 2" in out
    assert "](generated/benchmarks/latest-adam-step.svg)" in out
    assert "generated/benchmarks/latest-adam-step.svg" in sources.generated_tree(
        sources.BENCHMARKS_PREFIX, sources.benchmark_outputs(tmp_path)
    )


def test_sparsity_figure_settles_at_the_stated_spike_size() -> None:
    """The sparsity page: a gradient every k steps settles at r(k) = (1-β1)/(1-β1^k)·
    √((1-β2^k)/(1-β2)) per spike (0.54α for k = 25, 1.61α for k = 300)."""
    from docs_build.figures import periodic_sparse_steps

    for every, stated in ((25, 0.54), (300, 1.61)):
        steps = periodic_sparse_steps(every, 12000)[:, 1]
        expected = 0.1 / (1 - 0.9**every) * ((1 - 0.999**every) / 0.001) ** 0.5
        assert steps[-1] == pytest.approx(expected, rel=1e-6)
        assert round(expected, 2) == stated
    assert periodic_sparse_steps(1, 50)[-1, 0] == pytest.approx(1.0, rel=1e-6)


def test_benchmark_ratios_render_with_their_interval_in_one_cell() -> None:
    from docs_build.sources import _render_benchmark

    data = {
        "adam_ratios": [
            {
                "dtype": "float32",
                "x": 0.94,
                "x_lo": 0.9,
                "x_hi": 0.99,
                "x_best": 0.8,
                "x_cpu": 0.93,
                "lonely_lo": 3,
            }
        ]
    }
    md = _render_benchmark(data)
    assert "0.94 [0.9, 0.99]" in md
    assert "x_<wbr>best" not in md and "x_<wbr>cpu" not in md
    assert "lonely_<wbr>lo" in md  # a suffix without its base column is an ordinary column


# --- how derivations render on the pages ------------------------------------------------------


def test_sums_print_in_reading_order() -> None:
    """Positive terms first: β₁^{t−i}, 1 − β₁ and t + 1 − i, not sympy's −i + t."""
    import sympy as sp

    from adamproofs.derivations._render import latex, pretty

    beta1, t, i = sp.symbols("beta_1 t i", positive=True)
    assert sp.latex(beta1 ** (t - i)) == r"\beta_{1}^{- i + t}"  # what sympy alone prints
    assert latex(beta1 ** (t - i)) == r"\beta_{1}^{t - i}"
    assert latex(beta1 ** (t + 1 - i)) == r"\beta_{1}^{t + 1 - i}"
    assert latex(beta1 - 1) == r"\beta_{1} - 1" and latex(1 - beta1) == r"1 - \beta_{1}"
    assert "t - i" in pretty(beta1 ** (t - i))


def _small_derivation(true_claim: bool):
    import sympy as sp

    from adamproofs.derivations import Proof

    x = sp.Symbol("x", positive=True)
    p = Proof("small", "A small derivation", "The weight of g_i is β^(t−i).")
    p.define("A definition.", sp.Eq(sp.Symbol("y"), x + 1))
    p.symbolic(
        "A claim about x_(3k+1).", sp.Eq((x + 1) ** 2, x**2 + 2 * x + (1 if true_claim else 2))
    )
    return p.build()


def test_checked_steps_fold_into_one_block_open_only_when_something_failed() -> None:
    from adamproofs.derivations._render import render_checked_steps

    good = render_checked_steps(_small_derivation(True))
    assert good.startswith(
        '??? success checked-steps "Checked steps: A small derivation '
        '(2 steps, all 1 claims verified)"\n'
    )
    body = good.splitlines()[2:]
    assert all(line.startswith("    ") or not line for line in body)  # all inside the block
    assert "    $$" in good and "    > *✔ symbolic*" in good
    assert "β<sup>t−i</sup>" in good and "x<sub>3k+1</sub>" in good
    bad = render_checked_steps(_small_derivation(False))
    assert bad.startswith(
        '???+ failure checked-steps "Checked steps: A small derivation '
        '(2 steps, NOT VERIFIED: 1 of 1 claims failed)"'
    )
    assert "✘ NOT VERIFIED" in bad
    assert not render_checked_steps(_small_derivation(True), summary=False).count("β<sup>")


def test_step_texts_show_exponents_and_indices_as_such() -> None:
    from adamproofs.derivations._render import prose_markdown

    assert (
        prose_markdown("weights (1−β)β^(t−i) to g_i")
        == "weights (1−β)β<sup>t−i</sup> to g<sub>i</sub>"
    )
    assert (
        prose_markdown("u_{t−1} and m̂_t and (1 − β₂^p)^(1/p)")
        == "u<sub>t−1</sub> and m̂<sub>t</sub> and (1 − β₂<sup>p</sup>)<sup>1/p</sup>"
    )
    # identifiers and code are left alone (underscores escaped for Markdown only)
    assert prose_markdown("Adam(eps_placement='hat')") == "Adam(eps\\_placement='hat')"
    assert prose_markdown("a < b & c") == "a &lt; b &amp; c"


# --- the API reference ------------------------------------------------------------------------


def _api_objects(site: Path) -> list[str]:
    """The dotted paths of the objects the API page documents (its headings' ids)."""
    import re

    html = (site / "api" / "index.html").read_text()
    return re.findall(r'<h[2-6] id="(adamproofs[\w.]*)" class="doc doc-heading"', html)


def _resolve(path: str) -> object:
    import importlib

    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise ImportError(path)


@pytest.mark.browser
@pytest.mark.skipif(_toolchain_missing() is not None, reason=str(_toolchain_missing()))
def test_the_api_page_documents_each_public_object_once(site_dir: Path) -> None:
    import inspect

    paths = _api_objects(site_dir)
    assert paths, "no documented objects found on the API page"
    seen: dict[int, str] = {}
    twice = []
    for path in paths:
        obj = _resolve(path)
        if inspect.isclass(obj) or inspect.isfunction(obj) or inspect.ismodule(obj):
            if id(obj) in seen:
                twice.append(f"{path} is {seen[id(obj)]}")
            seen.setdefault(id(obj), path)
    assert not twice, twice
    missing = []
    for package in (
        "adamproofs.reference",
        "adamproofs.fast",
        "adamproofs.conformance",
        "adamproofs.derivations",
        "adamproofs.config",
    ):
        module = _resolve(package)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if (inspect.isclass(obj) or inspect.isfunction(obj)) and id(obj) not in seen:
                missing.append(f"{package}.{name}")
    assert not missing, f"public objects missing from the API page: {missing}"
    assert "adamproofs.pytest_plugin" in paths and "adamproofs.fast.functional" in paths
