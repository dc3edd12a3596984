"""Renders the web app's PNG icons (incidents/static/citypin/icon-192.png, icon-512.png) from
our own icon.svg with chromium, the browser the tests already use: launchers that take no SVG
icon want a 192 and a 512 px PNG. Run after editing icon.svg:
    .venv/bin/python scripts/app_icons.py"""

from pathlib import Path

from playwright.sync_api import sync_playwright

STATIC = Path(__file__).resolve().parent.parent / "incidents" / "static" / "citypin"
CHROMIUM = "/usr/bin/chromium"


def main() -> None:
    svg = (STATIC / "icon.svg").read_text(encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists() else None,
                                    args=["--no-sandbox", "--disable-gpu"])
        for size in (192, 512):
            page = browser.new_page(viewport={"width": size, "height": size})
            page.set_content(f"<style>html,body{{margin:0}} svg{{display:block;width:{size}px;height:{size}px}}</style>{svg}")
            page.screenshot(path=str(STATIC / f"icon-{size}.png"), omit_background=True)
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
