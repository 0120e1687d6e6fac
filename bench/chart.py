"""Draw bench/chart.svg from bench/results.json: sequential rounds and bytes ÷ floor per
window, Strobe against h5py + fsspec, on log scales. Plain SVG, no plotting library."""

import json
import math
import sys

READERS = [("strobe_http", "Strobe", "#1f5fbf"),
           ("fsspec_64k", "h5py + fsspec 64 KiB", "#d9822b"),
           ("fsspec_5m", "h5py + fsspec 5 MiB", "#9b9b9b")]


def groups(res):
    for f in res["files"]:
        short = "h5py-chunked" if "full" in f["file"] else "append-mode"
        for w in f["windows"]:
            if not any(r["key"] == "fsspec_64k" for r in w["readers"]):
                continue  # windows measured without the fsspec peers are not charted
            vals = {}
            for r in w["readers"]:
                if r["key"] in dict((k, 1) for k, _, _ in READERS) and r.get("ok"):
                    vals[r["key"]] = (r["result"]["rounds"], r["result"]["bytes"] / w["floor"]["bytes"])
            yield f"{short} · {w['label']}", vals


def panel(out, x0, y0, width, height, title, data, which, vmax):
    out.append(f'<text x="{x0}" y="{y0 - 8}" font-size="14" font-weight="bold">{title}</text>')
    top = math.log10(vmax)
    for exp in range(0, int(math.ceil(top)) + 1):
        y = y0 + height - height * exp / top
        out.append(f'<line x1="{x0}" x2="{x0 + width}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{x0 - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">{10 ** exp:g}</text>')
    gw = width / max(len(data), 1)
    bw = gw / (len(READERS) + 1)
    for i, (label, vals) in enumerate(data):
        gx = x0 + i * gw
        for j, (key, _, colour) in enumerate(READERS):
            if key not in vals:
                continue
            v = max(vals[key][which], 1.0)
            h = height * math.log10(v) / top
            x = gx + bw * (j + 0.5)
            out.append(f'<rect x="{x:.1f}" y="{y0 + height - h:.1f}" width="{bw * 0.9:.1f}" '
                       f'height="{max(h, 1):.1f}" fill="{colour}"/>')
            out.append(f'<text x="{x + bw * 0.45:.1f}" y="{y0 + height - h - 3:.1f}" font-size="9" '
                       f'text-anchor="middle">{vals[key][which]:.3g}</text>')
        kind, window = label.split(" · ")
        for k, line in enumerate((kind, window)):
            out.append(f'<text x="{gx + gw / 2:.1f}" y="{y0 + height + 14 + 12 * k}" font-size="10" '
                       f'text-anchor="middle">{line}</text>')


def chart(res):
    data = list(groups(res))
    width, height = 1100, 250
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width + 80}" height="{2 * height + 185}" '
           f'font-family="sans-serif">', '<rect width="100%" height="100%" fill="white"/>']
    rmax = max(v[0] for _, vals in data for v in vals.values())
    fmax = max(v[1] for _, vals in data for v in vals.values())
    panel(out, 60, 40, width, height, "Sequential rounds (log scale; fewer is faster at any latency)",
          data, 0, rmax * 1.5)
    panel(out, 60, height + 120, width, height, "Bytes moved ÷ floor (log scale; 1 = only the chunks the window needs)",
          data, 1, fmax * 1.5)
    for j, (_, name, colour) in enumerate(READERS):
        x = 60 + j * 220
        y = 2 * height + 170
        out.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{x + 18}" y="{y}" font-size="12">{name}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    src = sys.argv[1] if len(sys.argv) > 1 else "bench/results.json"
    dst = sys.argv[2] if len(sys.argv) > 2 else "bench/chart.svg"
    with open(dst, "w") as fh:
        fh.write(chart(json.load(open(src))))
