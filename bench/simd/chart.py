#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Draws docs/simd-measured-vs-limit.svg from a bench_simd JSON report (medians).

  bench_simd --benchmark_repetitions=9 --benchmark_enable_random_interleaving=true \
      --benchmark_out=report.json --benchmark_out_format=json
  bench/simd/chart.py report.json docs/simd-measured-vs-limit.svg

Each panel is one quantity at one size: the rows of ferrite, its peers and the limits, as
horizontal bars of the same scale. Plain SVG, no plotting library."""
import json
import sys


def medians(report):
    out = {}
    for b in report["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        name = b["run_name"]
        if "FLOP/s" in b:
            out[name] = ("GFLOP/s", b["FLOP/s"] / 1e9)
        elif "bytes_per_second" in b:
            out[name] = ("GB/s", b["bytes_per_second"] / 1e9)
    return out


PANELS = [
    ("dot, float, n = 1024 (L1)", [
        ("ferrite (avx512)", "BM_dot_f32/ferrite/1024"),
        ("ferrite avx2", "BM_dot_f32/ferrite_avx2/1024"),
        ("xsimd", "BM_dot_f32/xsimd/1024"),
        ("Highway", "BM_dot_f32/highway/1024"),
        ("plain loop", "BM_dot_f32/plain_loop/1024"),
        ("limit: bare load+FMA loop", "BM_limit_dot_l1_bare_loop/f32_zmm/iterations:1"),
        ("limit: 2 loads/cycle, measured", "BM_limit_dot_l1_loads/f32_zmm/iterations:1"),
        ("limit: 16 pairs/cycle x clock", "BM_limit_dot_l1_model/f32_avx512_16_pairs_per_cycle/iterations:1"),
    ]),
    ("dot, float, n = 4M (32 MiB)", [
        ("ferrite (avx512)", "BM_dot_f32/ferrite/4194304"),
        ("xsimd", "BM_dot_f32/xsimd/4194304"),
        ("Highway", "BM_dot_f32/highway/4194304"),
        ("limit: streaming read", "BM_limit_stream_read<float>/4194304"),
    ]),
    ("crc32c, 64 B / 4 KiB / 1 MiB", [
        ("ferrite 64 B", "BM_crc32c/ferrite/64"),
        ("ISA-L 64 B", "BM_crc32c/isal_crc32_iscsi/64"),
        ("ferrite 4 KiB", "BM_crc32c/ferrite/4096"),
        ("ISA-L 4 KiB", "BM_crc32c/isal_crc32_iscsi/4096"),
        ("ferrite 1 MiB", "BM_crc32c/ferrite/1048576"),
        ("ISA-L 1 MiB", "BM_crc32c/isal_crc32_iscsi/1048576"),
    ]),
    ("copy, 64 MiB and 1 GiB", [
        ("ferrite 64 MiB", "BM_copy/ferrite/67108864"),
        ("glibc 64 MiB", "BM_copy/glibc_memcpy/67108864"),
        ("ferrite 1 GiB", "BM_copy/ferrite/1073741824"),
        ("glibc 1 GiB", "BM_copy/glibc_memcpy/1073741824"),
    ]),
]


def svg(data):
    width, label_w, bar_w, row_h = 760, 250, 420, 20
    parts, y = [], 10
    for title, rows in PANELS:
        present = [(l, data[k]) for l, k in rows if k in data]
        if not present:
            continue
        unit = present[0][1][0]
        top = max(v for _, (_, v) in present)
        parts.append(f'<text x="10" y="{y + 14}" font-weight="bold">{title} ({unit})</text>')
        y += 22
        for label, (_, value) in present:
            w = bar_w * value / top
            colour = "#888" if label.startswith("limit") else ("#c0392b" if label.startswith("ferrite") else "#2e86c1")
            parts.append(f'<text x="10" y="{y + 14}">{label}</text>')
            parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" fill="{colour}"/>')
            parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 14}">{value:.1f}</text>')
            y += row_h
        y += 12
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y}" '
            f'font-family="sans-serif" font-size="12">')
    return head + f'<rect width="{width}" height="{y}" fill="white"/>' + "".join(parts) + "</svg>\n"


def main():
    with open(sys.argv[1]) as f:
        data = medians(json.load(f))
    with open(sys.argv[2], "w") as f:
        f.write(svg(data))


if __name__ == "__main__":
    main()
