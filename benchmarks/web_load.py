"""Cuánto pesa el sitio del curso y cuánto tarda en abrirse con una red de móvil lenta.

    python benchmarks/web_load.py sitio [notebooks/10_mira_como_aprende.html ...]

Sirve la carpeta `sitio` (la de `python -m trazos web --out sitio`) en 127.0.0.1 y abre cada
página en Chromium sin caché, con la red limitada por el protocolo de DevTools a 1,6 Mbit/s de
bajada, 750 kbit/s de subida y 150 ms de latencia (el «móvil lento» de Lighthouse). Imprime el
tamaño del sitio y, por página, los bytes que se descargan y el tiempo hasta el evento `load`
(la mediana de tres cargas). Por defecto mide la portada y el cuaderno 10, el más pesado.
"""

import functools
import http.server
import statistics
import sys
import threading
from pathlib import Path

from trazos.render import decimal

DOWN, UP, LATENCY = 1.6e6 / 8, 750e3 / 8, 150  # bytes/s, bytes/s, ms
PAGES = ("index.html", "notebooks/10_mira_como_aprende.html")
RUNS = 3


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def measure(page, url):
    """(bytes descargados, segundos hasta `load`) de una carga en frío con la red limitada."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.clearBrowserCache")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": LATENCY,
                                                  "downloadThroughput": DOWN, "uploadThroughput": UP})
    received = []
    cdp.on("Network.loadingFinished", lambda event: received.append(event["encodedDataLength"]))
    page.goto(url, wait_until="load", timeout=300_000)
    seconds = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventStart / 1000")
    cdp.detach()
    return sum(received), seconds


def main(folder, pages=PAGES):
    from playwright.sync_api import sync_playwright

    folder = Path(folder)
    total = sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())
    files = sum(1 for path in folder.rglob("*") if path.is_file())
    print(f"sitio {folder}: {decimal(total / 1e6)} MB en {files} ficheros")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=folder))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            for name in pages:
                runs = []
                for _ in range(RUNS):
                    context = browser.new_context(viewport={"width": 390, "height": 844})
                    runs.append(measure(context.new_page(), f"{base}/{name}"))
                    context.close()
                size = statistics.median(r[0] for r in runs)
                seconds = statistics.median(r[1] for r in runs)
                print(f"{name}: {decimal(size / 1e6)} MB descargados, load en {decimal(seconds, 1)} s "
                      f"(mediana de {RUNS})")
            browser.close()
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:] or PAGES)
