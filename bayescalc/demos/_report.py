"""The tour's report: one self-contained ``index.html`` beside the figures.

Every figure is referenced by its path relative to the report, so the folder can be
moved or zipped as a whole; nothing is fetched from the network.
"""

from __future__ import annotations

import html
import os
from datetime import datetime, timezone
from pathlib import Path

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.5; color: #222; }
h1 { margin-bottom: 0.2rem; }
.meta { color: #666; margin-top: 0; }
section { border-top: 1px solid #ddd; margin-top: 2rem; padding-top: 0.5rem; }
.summary p { margin: 0.3rem 0; }
figure { margin: 1.5rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.95rem; color: #333; }
table { border-collapse: collapse; font-size: 0.9rem; }
td, th { border-bottom: 1px solid #eee; padding: 0.15rem 0.8rem 0.15rem 0; text-align: left; }
td.value { font-family: ui-monospace, monospace; }
pre { background: #f6f6f6; padding: 0.8rem; overflow-x: auto; font-size: 0.8rem; }
"""


def _format_value(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_format_value(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_format_value(v) for v in value) + "]"
    return str(value)


def render_report(legs, out_dir, *, quick: bool = False, seed: int = 0) -> str:
    """The report's HTML text for ``legs`` whose figures live under ``out_dir``."""
    out_dir = Path(out_dir)
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    from .. import __version__

    mode = "quick" if quick else "default"
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        "<title>bayescalc tour</title>", f"<style>{_STYLE}</style>", "</head>", "<body>",
        "<h1>The bayescalc tour</h1>",
        f'<p class="meta">bayescalc {html.escape(__version__)}, {mode} settings, seed '
        f"{seed}, {when}. Re-run with <code>bayescalc tour"
        f"{' --quick' if quick else ''} --seed {seed}</code>.</p>",
        "<nav><ol>",
    ]
    parts += [f'<li><a href="#leg-{i}">{html.escape(leg.title)}</a></li>'
              for i, leg in enumerate(legs, start=1)]
    parts.append("</ol></nav>")
    for i, leg in enumerate(legs, start=1):
        parts.append(f'<section id="leg-{i}">')
        parts.append(f"<h2>{i}. {html.escape(leg.title)}</h2>")
        parts.append('<div class="summary">')
        parts += [f"<p>{html.escape(line)}</p>" for line in leg.summary.splitlines()]
        parts.append(f'<p class="meta">{leg.seconds:.0f} s</p></div>')
        for figure in leg.figures:
            src = Path(os.path.relpath(figure.path, out_dir)).as_posix()
            parts.append(
                f'<figure><img src="{html.escape(src)}" alt="{html.escape(figure.caption)}">'
                f"<figcaption><b>{html.escape(Path(src).name)}.</b> "
                f"{html.escape(figure.caption)}</figcaption></figure>")
        parts.append("<h3>The numbers this leg measured</h3><table>")
        parts += [f'<tr><th>{html.escape(str(key))}</th>'
                  f'<td class="value">{html.escape(_format_value(value))}</td></tr>'
                  for key, value in leg.numbers.items()]
        parts.append("</table>")
        if leg.log:
            parts.append("<details><summary>What the demos printed</summary>"
                         f"<pre>{html.escape(leg.log)}</pre></details>")
        parts.append("</section>")
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def write_report(legs, out_dir, *, quick: bool = False, seed: int = 0) -> Path:
    """Write ``out_dir/index.html`` for ``legs``; return its path."""
    path = Path(out_dir) / "index.html"
    path.write_text(render_report(legs, out_dir, quick=quick, seed=seed), encoding="utf-8")
    return path
