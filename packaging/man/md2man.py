#!/usr/bin/env python3
"""Converts the man page sources (a small Markdown subset) to roff for man(7).

Usage: md2man.py --version V -o OUT SRC.N.md [--plugin-docs docs/plugins/*.md]

The subset: `# H` (.SH), `## H` (.SS), paragraphs, `- ` bullets, `1. ` numbered items, a line
followed by `: text` lines (a tagged paragraph: term, then its description), ``` fences,
`| a | b |` tables (the first column becomes the tag), and inline `code`, **bold**, *italic*,
[text](link). With --plugin-docs, each docs/plugins/NAME.md is appended under PLUGINS as
`.SS NAME` (its `##` headings become bold lead-ins), so tether-cni(7) is generated from the
plugin docs and cannot drift from them. Only the Python standard library is used.
"""
import argparse
import os
import re
import sys


def esc(text):
    """Escapes roff specials in plain text."""
    return text.replace("\\", "\\e")


def inline(text):
    """Converts inline markup of one line of text to roff font escapes."""
    out = []
    pos = 0
    pattern = re.compile(r"`([^`]+)`|\*\*(.+?)\*\*|(?<![\w*])\*([^*\s][^*]*?)\*(?![\w*])|\[([^\]]+)\]\(([^)]+)\)")
    for m in pattern.finditer(text):
        out.append(esc(text[pos:m.start()]))
        if m.group(1) is not None:
            out.append("\\fB" + esc(m.group(1)).replace("-", "\\-") + "\\fR")
        elif m.group(2) is not None:
            out.append("\\fB" + inline(m.group(2)) + "\\fR")
        elif m.group(3) is not None:
            out.append("\\fI" + inline(m.group(3)) + "\\fR")
        else:
            out.append(inline(m.group(4)))
        pos = m.end()
    out.append(esc(text[pos:]))
    return "".join(out)


def line_out(text):
    """A text line safe at the start of a roff line (no leading . or ')."""
    s = inline(text.strip())
    if s.startswith((".", "'")):
        s = "\\&" + s
    return s


def split_row(row):
    cells = row.strip().strip("|").split("|")
    return [c.strip() for c in cells]


def convert(lines, out, subsection_level=2):
    """Appends the roff for Markdown `lines` to `out`. Headings of level < subsection_level
    become .SH, of subsection_level .SS, deeper ones bold lead-ins."""
    i = 0
    n = len(lines)

    def para_start():
        if out and out[-1] not in (".PP",) and not out[-1].startswith((".SH", ".SS")):
            out.append(".PP")

    while i < n:
        line = lines[i].rstrip("\n")
        stripped = line.strip()
        if not stripped:
            i += 1
            continue
        m = re.match(r"^(#+)\s+(.*)$", stripped)
        if m:
            level = len(m.group(1))
            title = m.group(2).strip()
            if level < subsection_level:
                out.append('.SH "' + inline(title).upper().replace('"', "") + '"')
            elif level == subsection_level:
                out.append('.SS "' + inline(title).replace('"', "") + '"')
            else:
                out.append(".PP")
                out.append("\\fB" + inline(title) + "\\fR")
            i += 1
            continue
        if stripped.startswith("```"):
            i += 1
            out.append(".PP")
            out.append(".RS 4")
            out.append(".nf")
            while i < n and not lines[i].strip().startswith("```"):
                code = esc(lines[i].rstrip("\n"))
                out.append(("\\&" if code.startswith((".", "'")) else "") + code)
                i += 1
            out.append(".fi")
            out.append(".RE")
            i += 1
            continue
        if stripped.startswith("|"):
            rows = []
            while i < n and lines[i].strip().startswith("|"):
                rows.append(split_row(lines[i]))
                i += 1
            header = rows[0]
            body = [r for r in rows[1:] if not all(re.fullmatch(r":?-+:?", c or "-") for c in r)]
            for r in body:
                out.append(".TP")
                out.append(line_out(r[0]))
                parts = []
                for h, c in zip(header[1:], r[1:]):
                    if not c or c in ("—", "-"):
                        continue
                    label = h.strip().lower()
                    if label in ("meaning", "description", "what", ""):
                        parts.append(c)
                    else:
                        parts.append(h.strip().capitalize() + ": " + c + ".")
                out.append(line_out(" ".join(parts)) if parts else "\\&")
            continue
        bullet = re.match(r"^(\s*)(- |\* |\d+\. )(.*)$", line)
        if bullet:
            tag = bullet.group(2).strip()
            text = [bullet.group(3)]
            i += 1
            while i < n and lines[i].strip() and not re.match(r"^\s*(- |\* |\d+\. |#|```|\|)", lines[i]):
                text.append(lines[i].strip())
                i += 1
            indent = 2 if tag in ("-", "*") else 4
            out.append(".IP " + ("\\(bu" if tag in ("-", "*") else tag) + " " + str(indent))
            out.append(line_out(" ".join(text)))
            continue
        # A paragraph, or a tagged paragraph when its second line starts with ": ".
        block = []
        while i < n and lines[i].strip() and not re.match(r"^\s*(#+\s|```|\|)", lines[i]):
            if block and re.match(r"^\s*(- |\* |\d+\. )", lines[i]):
                break
            block.append(lines[i].rstrip("\n"))
            i += 1
        if len(block) >= 2 and block[1].lstrip().startswith(": "):
            j = 0
            while j < len(block):
                term = block[j]
                desc = []
                j += 1
                while j < len(block) and (block[j].lstrip().startswith(": ") or block[j].startswith("  ")):
                    desc.append(block[j].lstrip()[2:] if block[j].lstrip().startswith(": ") else block[j].strip())
                    j += 1
                out.append(".TP")
                out.append(line_out(term))
                out.append(line_out(" ".join(desc)) if desc else "\\&")
            continue
        para_start()
        out.append(line_out(" ".join(b.strip() for b in block)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--version", default="")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("source")
    ap.add_argument("--plugin-docs", nargs="*", default=[])
    args = ap.parse_args()

    base = os.path.basename(args.source)
    m = re.match(r"^(.+)\.(\d)\.md$", base)
    if not m:
        sys.exit("md2man: source must be named NAME.SECTION.md: " + base)
    name, section = m.group(1), m.group(2)
    with open(args.source, encoding="utf-8") as f:
        src = f.readlines()
    out = ['.\\" Generated by packaging/man/md2man.py from ' + base + "; do not edit.",
           '.TH "%s" "%s" "" "tether %s" "tether manual"' % (name.upper(), section, args.version)]
    convert(src, out)
    if args.plugin_docs:
        out.append('.SH "PLUGINS"')
        for doc in sorted(args.plugin_docs, key=os.path.basename):
            with open(doc, encoding="utf-8") as f:
                lines = f.readlines()
            plugin = os.path.basename(doc)[:-3]
            # The doc's "# name" title becomes .SS name; its "##" headings bold lead-ins.
            if lines and re.match(r"^#\s", lines[0]):
                lines = lines[1:]
            out.append('.SS "' + plugin + '"')
            out.append(".PP")
            out.append("(From docs/plugins/" + plugin + ".md.)")
            convert(lines, out, subsection_level=1)
    text = "\n".join(out) + "\n"
    # whatis/apropos (lexgrog) read "name \- description" from the NAME section.
    text = re.sub(r'(\.SH "NAME"\n[^\n]*?) - ', r"\1 \\- ", text, count=1)
    # Collapse paragraph macros that follow a heading or another paragraph macro.
    text = re.sub(r"(\.S[HS] [^\n]*\n)\.PP\n", r"\1", text)
    text = re.sub(r"(\.PP\n)+", ".PP\n", text)
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
