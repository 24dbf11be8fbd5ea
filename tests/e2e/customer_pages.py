"""Pages of a customer's site with the snippet installed, served from another origin.

The snippet is loaded from the live server, as a customer would load it from their
Sightline; the pages themselves come from 127.0.0.1 (the live server is `localhost`).
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SNIPPET_TAG = '<script src="{site}/static/sightline.js" data-key="{key}"{attributes} defer></script>'

# A to-do app routed by the URL's hash, the way TodoMVC's vanilla example is: the links
# change location.hash and the app re-renders on hashchange. "#notes" is an in-page anchor.
TODO_APP = """<!doctype html>
<html><head><meta charset="utf-8"><title>Todos</title>{snippet}
<style>.hidden{{display:none}} #notes{{margin-top:150vh}} .selected{{font-weight:bold}}</style></head>
<body>
<section class="todoapp">
  <h1>todos</h1>
  <ul class="todo-list">
    <li data-done="false">Buy milk</li>
    <li data-done="true">Walk the dog</li>
  </ul>
  <footer class="footer">
    <ul class="filters">
      <li><a id="all" href="#/">All</a></li>
      <li><a id="active" href="#/active">Active</a></li>
      <li><a id="completed" href="#/completed">Completed</a></li>
    </ul>
    <a id="to-notes" href="#notes">Notes</a>
    <button id="push-completed" type="button">Completed (router push)</button>
  </footer>
</section>
<section id="notes"><h2>Notes</h2><a id="back-to-top" href="#top">Top</a></section>
<script>
  window.announced = {{popstate: 0, hashchange: 0}};
  addEventListener("popstate", () => announced.popstate++);
  addEventListener("hashchange", () => announced.hashchange++);
  function render() {{
    const route = location.hash.startsWith("#/") ? location.hash.slice(2) : "";
    for (const item of document.querySelectorAll(".todo-list li")) {{
      const done = item.dataset.done === "true";
      item.classList.toggle("hidden", (route === "active" && done) || (route === "completed" && !done));
    }}
    for (const link of document.querySelectorAll(".filters a")) {{
      link.classList.toggle("selected", link.getAttribute("href") === "#/" + route);
    }}
  }}
  addEventListener("hashchange", render);
  render();
  // Some routers push the hash with the History API and announce it with a hashchange of their own.
  document.getElementById("push-completed").addEventListener("click", () => {{
    const oldURL = location.href;
    history.pushState(null, "", "#/completed");
    dispatchEvent(new HashChangeEvent("hashchange", {{oldURL, newURL: location.href}}));
  }});
</script>
</body></html>"""

SHOP_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Northwind Shop</title>{snippet}</head>
<body><main><h1>Northwind Shop</h1><button id="add-to-cart">Add to cart</button>
<a id="to-checkout" href="/checkout/">Checkout</a></main></body></html>"""

CHECKOUT_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Checkout</title></head>
<body><h1>Checkout</h1><p>No snippet on this page.</p></body></html>"""


class CustomerSite:
    """Serves `pages` ({path: html}) on 127.0.0.1 until `stop()`.

    With `relay_to` (Sightline's origin), POSTs to `/i/v1/…` are passed on to it, so the
    site can be the snippet's `data-api-host`; `hold(path, body)` returning true keeps
    such a request unanswered and never passed on, as if it were still on its way.
    """

    def __init__(self, relay_to: str = "", hold: Callable[[str, bytes], bool] | None = None) -> None:
        self.pages: dict[str, bytes] = {}
        self.held: list[bytes] = []
        self._release = threading.Event()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = site.pages.get(self.path.split("?")[0])
                self._answer(
                    200 if body is not None else 404, body or b"not found", "text/html; charset=utf-8"
                )

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if not relay_to or not self.path.startswith("/i/v1/"):
                    return self._answer(404, b"not found", "text/plain")
                if hold and hold(self.path, raw):
                    site.held.append(raw)
                    site._release.wait(timeout=30)
                    self.close_connection = True  # no answer at all: the page is gone by now
                    return None
                request = urllib.request.Request(relay_to + self.path, data=raw, method="POST")
                request.add_header("Content-Type", self.headers.get("Content-Type", "text/plain"))
                try:
                    with urllib.request.urlopen(request, timeout=10) as response:
                        status, body = response.status, response.read()
                except urllib.error.HTTPError as error:
                    status, body = error.code, error.read()
                self._answer(status, body, "application/json")

            def _answer(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.origin = f"http://127.0.0.1:{self._server.server_port}"

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()


def customer_site_factory(site: str, key: str) -> Iterator[Callable[..., CustomerSite]]:
    """A fixture body: `serve(pages, snippet_attributes="", relay=False, hold=None)` -> the running site.

    Each page's `{snippet}` is replaced with the snippet's tag (with `snippet_attributes`);
    with `relay`, the snippet sends through the site (see `CustomerSite`).
    """
    started: list[CustomerSite] = []

    def serve(
        pages: dict[str, str],
        snippet_attributes: str = "",
        relay: bool = False,
        hold: Callable[[str, bytes], bool] | None = None,
    ) -> CustomerSite:
        customer = CustomerSite(relay_to=site if relay else "", hold=hold)
        started.append(customer)
        if relay:
            snippet_attributes += f' data-api-host="{customer.origin}"'
        tag = SNIPPET_TAG.format(site=site, key=key, attributes=snippet_attributes)
        customer.pages = {path: html.format(snippet=tag).encode() for path, html in pages.items()}
        return customer

    yield serve
    for customer in started:
        customer.stop()
