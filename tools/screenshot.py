"""Make docs/answer.png: the bot's real answer to a seed question, drawn as Telegram shows it.

    .venv/bin/python tools/screenshot.py [--question "…"] [--out docs/answer.png]

The seeds are indexed into a temporary store, the question is answered by the same
code as in Telegram (`QAService.ask`, `render.answer_to_html`, the buttons of
`bot.telegram.buttons.keyboard`), and that HTML is put into a small page styled like a
Telegram chat (bubbles, blockquotes, inline keyboard) and captured with headless
Chromium (`apt-get install chromium`). The PNG is reduced to a palette to stay small.
"""

from __future__ import annotations

import argparse
import html
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import render  # noqa: E402
from bot.service import QAService  # noqa: E402
from bot.telegram.buttons import keyboard  # noqa: E402
from bot.telegram.state import ButtonMemory  # noqa: E402

QUESTION = "متى تبدأ زيارة لافروف؟"
WIDTH = 720
CSS = """
* { box-sizing: border-box; }
body { margin: 0; width: %(width)dpx; background: #c8d9b8;
  font: 15px/1.45 "Noto Sans Arabic", "Noto Naskh Arabic", "Noto Sans", sans-serif; }
header { display: flex; align-items: center; gap: 12px; padding: 10px 16px;
  background: #fff; border-bottom: 1px solid #d9d9d9; direction: ltr; }
.avatar { width: 40px; height: 40px; border-radius: 50%%; background: #3390ec; color: #fff;
  display: flex; align-items: center; justify-content: center; font-size: 20px; }
.name { font-weight: bold; } .status { color: #707579; font-size: 13px; }
main { padding: 14px 16px 18px; display: flex; flex-direction: column; gap: 10px; }
.bubble { max-width: 560px; padding: 7px 11px 6px; border-radius: 12px; direction: rtl;
  text-align: right; box-shadow: 0 1px 2px rgba(0,0,0,.15); }
.out { align-self: flex-end; background: #e3fee0; border-bottom-right-radius: 4px; }
.in { align-self: flex-start; background: #fff; border-bottom-left-radius: 4px; }
.time { direction: ltr; text-align: left; color: #8a9a8a; font-size: 12px; margin-top: 2px; }
.in .time { color: #a0acb6; }
blockquote { margin: 3px 0 2px; padding: 3px 9px 4px 8px; text-align: start;
  border-inline-start: 3px solid #3390ec; border-radius: 4px; background: rgba(51,144,236,.09); }
.bubble div[dir] { text-align: start; } .gap { height: 9px; }
code { font-family: "DejaVu Sans Mono", monospace; font-size: 13px; color: #3390ec;
  direction: ltr; unicode-bidi: isolate; }
i { color: #555; }
.keyboard { align-self: flex-start; width: 560px; margin-top: -6px; display: flex;
  flex-direction: column; gap: 4px; }
.row { display: flex; gap: 4px; }
.button { flex: 1; padding: 8px 6px; border-radius: 8px; text-align: center; color: #fff;
  font-weight: 500; background: rgba(70,100,60,.38); }
"""


def telegram_html_to_page(text: str) -> str:
    """Telegram's HTML parse mode in a browser: one block per line, each line's direction
    taken from its first strong letter (as Telegram's clients do), empty lines as gaps."""
    blocks = []
    for line in text.split("\n"):
        if not line:
            blocks.append('<div class="gap"></div>')
        elif line.startswith("<blockquote>"):
            blocks.append(line.replace("<blockquote>", '<blockquote dir="auto">', 1))
        else:
            blocks.append(f'<div dir="auto">{line}</div>')
    return "".join(blocks)


def answer_page(question: str, answer_html: str, rows: list[list[str]]) -> str:
    """The whole page: a header, the question, the answer and its inline keyboard."""
    buttons = "".join(
        '<div class="row">'
        + "".join(f'<div class="button">{html.escape(label)}</div>' for label in row)
        + "</div>"
        for row in rows
    )
    return f"""<!doctype html><html lang="ar"><head><meta charset="utf-8">
<style>{CSS % {"width": WIDTH}}</style></head><body>
<header><div class="avatar">؟</div><div><div class="name">Arabic QA bot</div>
<div class="status">bot</div></div></header>
<main>
<div class="bubble out">{html.escape(question)}<div class="time">10:42 ✓✓</div></div>
<div class="bubble in">{telegram_html_to_page(answer_html)}<div class="time">10:42</div></div>
<div class="keyboard">{buttons}</div>
</main>
<script>document.title = "h=" + document.documentElement.scrollHeight;</script>
</body></html>"""


def render_answer(question: str, workdir: Path) -> tuple[str, list[list[str]]]:
    """Index the seeds into `workdir` and answer `question` as the Telegram bot does."""
    service = QAService(workdir / "bot.sqlite3", ROOT / "seeds", variants=True)
    try:
        service.reindex()
        answer = service.ask(question, top=3)
        markup = keyboard(SimpleNamespace(buttons=ButtonMemory()), question, answer, 0)
        rows = [[b.text for b in row] for row in (markup.inline_keyboard if markup else ())]
        return render.answer_to_html(answer), rows
    finally:
        service.close()


def chromium(*args: str) -> str:
    """Run headless Chromium and return what it printed; SystemExit when it is missing."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        raise SystemExit("chromium not found: apt-get install chromium")
    done = subprocess.run(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--force-device-scale-factor=1", *args],
        capture_output=True, text=True, timeout=120, check=True,
    )
    return done.stdout


def capture(page: Path, out: Path) -> None:
    """Screenshot `page` at the page's own height, then shrink the PNG to a palette."""
    dom = chromium(f"--window-size={WIDTH},800", "--dump-dom", page.as_uri())
    found = re.search(r"<title>h=(\d+)</title>", dom)
    height = int(found.group(1)) if found else 800
    out.parent.mkdir(parents=True, exist_ok=True)
    chromium(f"--window-size={WIDTH},{height}", f"--screenshot={out}", page.as_uri())
    from PIL import Image

    with Image.open(out) as image:
        small = image.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT)
    small.save(out, optimize=True)


def main(argv: list[str] | None = None) -> int:
    """Write the screenshot; print where and how large."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--question", default=QUESTION, help="the question to answer")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "docs" / "answer.png", help="PNG to write"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        answer_html, rows = render_answer(args.question, Path(tmp))
        page = Path(tmp) / "answer.html"
        page.write_text(answer_page(args.question, answer_html, rows), encoding="utf-8")
        capture(page, args.out)
    print(f"{args.out}: {args.out.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
