"""Open a built page in headless Chromium, with the network cut off, and report what a reader sees:
how many equations MathJax rendered, which figures failed to load, and a screenshot.

    python -m dlcourse.browser _build/html/chapters/00_foundations.html --screenshot page.png

Chromium is driven through its DevTools protocol (``websocket-client``); on Debian,
``apt-get install chromium-headless-shell`` (or ``chromium``) provides the browser.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

BROWSERS = ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome")

# Waits for the page and for MathJax's first typesetting, then counts. Sphinx wraps every equation in
# an element of class "math"; MathJax 3 puts an <mjx-container> inside each one it renders.
_MEASURE = """(async () => {
  for (let i = 0; i < 400 && document.readyState !== 'complete'; i++) await new Promise(r => setTimeout(r, 50));
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  const images = [...document.images];
  return JSON.stringify({
    href: location.href,
    equations: document.querySelectorAll('.math').length,
    rendered: document.querySelectorAll('.math mjx-container').length,
    mathjax: (window.MathJax && MathJax.version) || null,
    mathjax_src: [...document.scripts].map(s => s.src).filter(s => /mathjax|tex-/i.test(s)),
    images: images.length,
    broken: images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src')),
  });
})()"""


@dataclass(frozen=True)
class PageReport:
    """What the browser showed: equations on the page and rendered, MathJax's version and source,
    images and the ones that did not load."""

    equations: int
    rendered: int
    mathjax: str | None
    mathjax_src: tuple[str, ...]
    images: int
    broken: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.rendered >= self.equations > 0 and self.images > 0 and not self.broken


def find_browser() -> str:
    """The first Chromium on the PATH; a clear error (with the install command) otherwise."""
    for name in BROWSERS:
        if path := shutil.which(name):
            return path
    raise FileNotFoundError(f"no headless browser found (tried {', '.join(BROWSERS)}); on Debian or Ubuntu: "
                            "sudo apt-get install chromium-headless-shell")


def _devtools_page(port: int, url: str, deadline: float) -> str:
    """The websocket URL of the browser's page target once it shows ``url`` (not the first about:blank)."""
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as response:
                pages = [t for t in json.load(response) if t.get("type") == "page" and t.get("url") == url]
            if pages:
                return pages[0]["webSocketDebuggerUrl"]
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError("the browser's DevTools endpoint did not answer")


def check_page(page: Path, screenshot: Path | None = None, timeout: float = 60.0,
               width: int = 1200, height: int = 2400) -> PageReport:
    """Load ``page`` (a local HTML file) offline in headless Chromium and measure it (see :class:`PageReport`)."""
    import websocket  # websocket-client: the test extra installs it

    page = Path(page).resolve()
    if not page.is_file():
        raise FileNotFoundError(f"no page at {page}")
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:  # Chromium may still be writing
        port_file = Path(profile) / "DevToolsActivePort"
        browser = subprocess.Popen(
            [find_browser(), "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
             "--remote-debugging-port=0", f"--window-size={width},{height}",
             "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",  # no network: a CDN would fail here
             page.as_uri()], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)  # its own process group: Chromium's helper processes end with it
        try:
            deadline = time.time() + timeout
            while not port_file.exists() and time.time() < deadline:
                time.sleep(0.1)
            if not port_file.exists():
                raise TimeoutError("the browser did not start its DevTools endpoint")
            port = int(port_file.read_text().split()[0])
            ws = websocket.create_connection(_devtools_page(port, page.as_uri(), deadline), timeout=timeout)
            try:
                def call(method: str, **params) -> dict:
                    call.n += 1
                    ws.send(json.dumps({"id": call.n, "method": method, "params": params}))
                    while True:
                        message = json.loads(ws.recv())
                        if message.get("id") == call.n:
                            if "error" in message:
                                raise RuntimeError(f"{method}: {message['error']}")
                            return message["result"]
                call.n = 0
                values: dict = {}
                while values.get("href") != page.as_uri():  # evaluated mid-navigation: measure again
                    if time.time() > deadline:
                        raise TimeoutError(f"the browser did not finish loading {page}")
                    try:
                        result = call("Runtime.evaluate", expression=_MEASURE, awaitPromise=True, returnByValue=True)
                        values = json.loads(result["result"]["value"])
                    except (RuntimeError, KeyError):  # the context was replaced by the navigation
                        time.sleep(0.2)
                if screenshot is not None:
                    shot = call("Page.captureScreenshot", format="png")
                    Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
                    Path(screenshot).write_bytes(base64.b64decode(shot["data"]))
            finally:
                ws.close()
        finally:
            os.killpg(browser.pid, signal.SIGTERM)
            try:
                browser.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(browser.pid, signal.SIGKILL)
                browser.wait()
    return PageReport(values["equations"], values["rendered"], values["mathjax"], tuple(values["mathjax_src"]),
                      values["images"], tuple(values["broken"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="+", type=Path, help="built HTML pages")
    parser.add_argument("--screenshot", type=Path, help="write a PNG of the (first) page here")
    args = parser.parse_args(argv)
    failed = 0
    for i, page in enumerate(args.pages):
        report = check_page(page, args.screenshot if i == 0 else None)
        local = all(not re.match(r"https?://", src) or src.startswith("file:") for src in report.mathjax_src)
        ok = report.ok and local
        failed += not ok
        print(f"{'ok' if ok else 'FAILED'} {page}: {report.rendered}/{report.equations} equations rendered by "
              f"MathJax {report.mathjax} from {', '.join(report.mathjax_src) or 'nowhere'}; "
              f"{report.images - len(report.broken)}/{report.images} figures loaded"
              + (f"; broken: {', '.join(report.broken)}" if report.broken else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
