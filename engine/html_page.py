"""The scaffolding of ccf's self-contained HTML pages (the inventory report, engine/inventory/html.py,
and the diff waterfall, engine/attribution_html.py): the document head, the styles both share, and
the rule that nothing is fetched. A Content-Security-Policy allows only the inline styles (no
script, no image, no font from anywhere), so a page renders the same offline, in any browser, years
later. Their table cells are in engine/html_table.py."""

from __future__ import annotations

from html import escape

# What both pages look like; a page adds its own rules after these (``page(css=...)``).
BASE_CSS = """
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2329; margin: 2rem auto;
       max-width: 1200px; padding: 0 1rem; }
h1 { margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #d5dbe0; }
.meta { color: #4b5761; margin: .1rem 0; } .note { color: #4b5761; font-size: .92rem; max-width: 60rem; }
.totals { display: flex; gap: 1rem; flex-wrap: wrap; margin: 1rem 0; }
.total { border: 1px solid #d5dbe0; border-radius: 6px; padding: .6rem 1rem; min-width: 14rem; }
.total .value { font-weight: 600; } .total .unit { color: #4b5761; }
table { border-collapse: collapse; margin: .6rem 0 1rem; min-width: 50%; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #e6eaee; text-align: left; vertical-align: top; }
th { background: #f3f5f7; font-weight: 600; vertical-align: bottom; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; } td.num { white-space: nowrap; }
tr.total td { font-weight: 600; border-top: 2px solid #9aa5ae; } .wide { overflow-x: auto; }
table.compact { font-size: 13px; } table.compact th, table.compact td { padding: .25rem .4rem; } /* many columns */
svg { display: block; margin: .5rem 0 1rem; } svg text { font: 12px system-ui, sans-serif; fill: #1d2329; }
"""


def page(title: str, body: list[str], css: str = "") -> str:
    """One HTML document (UTF-8 text) of the body's parts, with the base styles and ``css``."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{escape(title)}</title><style>{BASE_CSS}{css}</style></head><body>\n"
        # wide tables scroll sideways instead of squeezing their label column
        + "\n".join(body).replace("<table", '<div class="wide"><table').replace("</table>", "</table></div>")
        + "\n</body></html>\n"
    )
