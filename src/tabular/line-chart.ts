/**
 * A small line chart drawn straight into a PNG (pngjs): axes with ticks and labels, one
 * polyline with markers and error bars per series, dashed reference lines, a legend and a
 * title. Text uses a built-in 5x7 bitmap font (printable ASCII), so no font files or native
 * canvas are needed. Enough for the benchmark plots, nothing more.
 */
import { PNG } from 'pngjs';

export type Rgb = readonly [number, number, number];

export interface ChartSeries {
  readonly label: string;
  readonly color: Rgb;
  readonly points: readonly { readonly x: number; readonly y: number; readonly error?: number }[];
}

export interface ReferenceLine {
  readonly label: string;
  readonly color: Rgb;
  /** a horizontal line at y, or a polyline through points */
  readonly y?: number;
  readonly points?: readonly { readonly x: number; readonly y: number }[];
}

export interface LineChart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  /** x ticks (also the x range); the x axis is logarithmic when `logX` */
  readonly xTicks: readonly number[];
  readonly logX?: boolean;
  readonly yRange: readonly [number, number];
  readonly yStep: number;
  readonly series: readonly ChartSeries[];
  readonly references?: readonly ReferenceLine[];
  readonly width?: number;
  readonly height?: number;
}

const WHITE: Rgb = [255, 255, 255];
const BLACK: Rgb = [0, 0, 0];
const GRID: Rgb = [225, 225, 225];

export function lineChartPng(chart: LineChart): Buffer {
  const width = chart.width ?? 900;
  const height = chart.height ?? 600;
  const png = new PNG({ width, height });
  const canvas = new Canvas(png);
  canvas.fill(WHITE);
  const left = 80;
  const right = width - 250;
  const top = 50;
  const bottom = height - 60;
  const fx = (x: number) => (chart.logX ? Math.log(x) : x);
  const [x0, x1] = [fx(chart.xTicks[0]!), fx(chart.xTicks[chart.xTicks.length - 1]!)];
  const [y0, y1] = chart.yRange;
  const px = (x: number) => left + ((fx(x) - x0) / (x1 - x0)) * (right - left);
  const py = (y: number) => bottom - ((y - y0) / (y1 - y0)) * (bottom - top);

  const decimals = Math.max(0, -Math.floor(Math.log10(chart.yStep) + 1e-9));
  for (let y = y0; y <= y1 + chart.yStep / 2; y += chart.yStep) {
    canvas.line(left, py(y), right, py(y), GRID);
    canvas.line(left - 5, py(y), left, py(y), BLACK);
    const text = y.toFixed(decimals);
    canvas.text(left - 8 - textWidth(text), py(y) - 3, text, BLACK);
  }
  for (const x of chart.xTicks) {
    canvas.line(px(x), top, px(x), bottom, GRID);
    canvas.line(px(x), bottom, px(x), bottom + 5, BLACK);
    canvas.text(px(x) - textWidth(String(x)) / 2, bottom + 10, String(x), BLACK);
  }
  canvas.line(left, top, left, bottom, BLACK);
  canvas.line(left, bottom, right, bottom, BLACK);
  canvas.text((left + right) / 2 - textWidth(chart.xLabel) / 2, bottom + 28, chart.xLabel, BLACK);
  canvas.text(left - 70, top - 22, chart.yLabel, BLACK);
  canvas.text(width / 2 - textWidth(chart.title, 2) / 2, 12, chart.title, BLACK, 2);

  let legendY = top;
  const legend = (label: string, color: Rgb, dashed: boolean) => {
    if (dashed) canvas.dashed(right + 20, legendY + 3, right + 45, legendY + 3, color);
    else {
      canvas.thickLine(right + 20, legendY + 3, right + 45, legendY + 3, color);
      canvas.marker(right + 32, legendY + 3, color);
    }
    canvas.text(right + 52, legendY, label, BLACK);
    legendY += 18;
  };
  for (const ref of chart.references ?? []) {
    if (ref.y !== undefined) canvas.dashed(left, py(ref.y), right, py(ref.y), ref.color);
    const pts = ref.points ?? [];
    for (let i = 1; i < pts.length; i++) canvas.dashed(px(pts[i - 1]!.x), py(pts[i - 1]!.y), px(pts[i]!.x), py(pts[i]!.y), ref.color);
    legend(ref.label, ref.color, true);
  }
  for (const series of chart.series) {
    const pts = series.points;
    for (let i = 1; i < pts.length; i++) canvas.thickLine(px(pts[i - 1]!.x), py(pts[i - 1]!.y), px(pts[i]!.x), py(pts[i]!.y), series.color);
    for (const p of pts) {
      if (p.error) {
        canvas.line(px(p.x), py(p.y - p.error), px(p.x), py(p.y + p.error), series.color);
        for (const e of [p.y - p.error, p.y + p.error]) canvas.line(px(p.x) - 4, py(e), px(p.x) + 4, py(e), series.color);
      }
      canvas.marker(px(p.x), py(p.y), series.color);
    }
    legend(series.label, series.color, false);
  }
  return PNG.sync.write(png);
}

class Canvas {
  constructor(private readonly png: PNG) {}

  fill(color: Rgb): void {
    for (let i = 0; i < this.png.data.length; i += 4) this.setAt(i, color);
  }

  point(x: number, y: number, color: Rgb): void {
    const xi = Math.round(x);
    const yi = Math.round(y);
    if (xi < 0 || yi < 0 || xi >= this.png.width || yi >= this.png.height) return;
    this.setAt((yi * this.png.width + xi) * 4, color);
  }

  /** Straight line, one pixel wide; `skip` decides which steps stay blank (dashes). */
  line(xa: number, ya: number, xb: number, yb: number, color: Rgb, skip?: (step: number) => boolean): void {
    const steps = Math.max(1, Math.ceil(Math.max(Math.abs(xb - xa), Math.abs(yb - ya))));
    for (let i = 0; i <= steps; i++) {
      if (skip?.(i)) continue;
      this.point(xa + ((xb - xa) * i) / steps, ya + ((yb - ya) * i) / steps, color);
    }
  }

  thickLine(xa: number, ya: number, xb: number, yb: number, color: Rgb): void {
    for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]] as const) this.line(xa + dx, ya + dy, xb + dx, yb + dy, color);
  }

  dashed(xa: number, ya: number, xb: number, yb: number, color: Rgb): void {
    this.line(xa, ya, xb, yb, color, (i) => i % 10 >= 6);
  }

  marker(x: number, y: number, color: Rgb): void {
    for (let dx = -3; dx <= 3; dx++) for (let dy = -3; dy <= 3; dy++) this.point(x + dx, y + dy, color);
  }

  text(x: number, y: number, text: string, color: Rgb, scale = 1): void {
    let cx = Math.round(x);
    for (const ch of text) {
      const code = ch.charCodeAt(0);
      const index = code >= 32 && code < 127 ? code - 32 : '?'.charCodeAt(0) - 32;
      FONT.slice(index * 5, index * 5 + 5).forEach((column, col) => {
        for (let row = 0; row < 7; row++) {
          if (!((column >> row) & 1)) continue;
          for (let sx = 0; sx < scale; sx++) for (let sy = 0; sy < scale; sy++) this.point(cx + col * scale + sx, Math.round(y) + row * scale + sy, color);
        }
      });
      cx += 6 * scale;
    }
  }

  private setAt(offset: number, [r, g, b]: Rgb): void {
    const data = this.png.data;
    data[offset] = r;
    data[offset + 1] = g;
    data[offset + 2] = b;
    data[offset + 3] = 255;
  }
}

function textWidth(text: string, scale = 1): number {
  return text.length * 6 * scale;
}

/** The classic 5x7 font: five column bytes per glyph (bit 0 = top row), ASCII 32..126. */
const FONT = [
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x5f, 0x00, 0x00, 0x00, 0x07, 0x00, 0x07, 0x00, 0x14, 0x7f, 0x14, 0x7f, 0x14, // space ! " #
  0x24, 0x2a, 0x7f, 0x2a, 0x12, 0x23, 0x13, 0x08, 0x64, 0x62, 0x36, 0x49, 0x55, 0x22, 0x50, 0x00, 0x05, 0x03, 0x00, 0x00, // $ % & '
  0x00, 0x1c, 0x22, 0x41, 0x00, 0x00, 0x41, 0x22, 0x1c, 0x00, 0x08, 0x2a, 0x1c, 0x2a, 0x08, 0x08, 0x08, 0x3e, 0x08, 0x08, // ( ) * +
  0x00, 0x50, 0x30, 0x00, 0x00, 0x08, 0x08, 0x08, 0x08, 0x08, 0x00, 0x60, 0x60, 0x00, 0x00, 0x20, 0x10, 0x08, 0x04, 0x02, // , - . /
  0x3e, 0x51, 0x49, 0x45, 0x3e, 0x00, 0x42, 0x7f, 0x40, 0x00, 0x42, 0x61, 0x51, 0x49, 0x46, 0x21, 0x41, 0x45, 0x4b, 0x31, // 0 1 2 3
  0x18, 0x14, 0x12, 0x7f, 0x10, 0x27, 0x45, 0x45, 0x45, 0x39, 0x3c, 0x4a, 0x49, 0x49, 0x30, 0x01, 0x71, 0x09, 0x05, 0x03, // 4 5 6 7
  0x36, 0x49, 0x49, 0x49, 0x36, 0x06, 0x49, 0x49, 0x29, 0x1e, 0x00, 0x36, 0x36, 0x00, 0x00, 0x00, 0x56, 0x36, 0x00, 0x00, // 8 9 : ;
  0x00, 0x08, 0x14, 0x22, 0x41, 0x14, 0x14, 0x14, 0x14, 0x14, 0x41, 0x22, 0x14, 0x08, 0x00, 0x02, 0x01, 0x51, 0x09, 0x06, // < = > ?
  0x32, 0x49, 0x79, 0x41, 0x3e, 0x7e, 0x11, 0x11, 0x11, 0x7e, 0x7f, 0x49, 0x49, 0x49, 0x36, 0x3e, 0x41, 0x41, 0x41, 0x22, // @ A B C
  0x7f, 0x41, 0x41, 0x22, 0x1c, 0x7f, 0x49, 0x49, 0x49, 0x41, 0x7f, 0x09, 0x09, 0x01, 0x01, 0x3e, 0x41, 0x41, 0x51, 0x32, // D E F G
  0x7f, 0x08, 0x08, 0x08, 0x7f, 0x00, 0x41, 0x7f, 0x41, 0x00, 0x20, 0x40, 0x41, 0x3f, 0x01, 0x7f, 0x08, 0x14, 0x22, 0x41, // H I J K
  0x7f, 0x40, 0x40, 0x40, 0x40, 0x7f, 0x02, 0x04, 0x02, 0x7f, 0x7f, 0x04, 0x08, 0x10, 0x7f, 0x3e, 0x41, 0x41, 0x41, 0x3e, // L M N O
  0x7f, 0x09, 0x09, 0x09, 0x06, 0x3e, 0x41, 0x51, 0x21, 0x5e, 0x7f, 0x09, 0x19, 0x29, 0x46, 0x46, 0x49, 0x49, 0x49, 0x31, // P Q R S
  0x01, 0x01, 0x7f, 0x01, 0x01, 0x3f, 0x40, 0x40, 0x40, 0x3f, 0x1f, 0x20, 0x40, 0x20, 0x1f, 0x7f, 0x20, 0x18, 0x20, 0x7f, // T U V W
  0x63, 0x14, 0x08, 0x14, 0x63, 0x03, 0x04, 0x78, 0x04, 0x03, 0x61, 0x51, 0x49, 0x45, 0x43, 0x00, 0x00, 0x7f, 0x41, 0x41, // X Y Z [
  0x02, 0x04, 0x08, 0x10, 0x20, 0x41, 0x41, 0x7f, 0x00, 0x00, 0x04, 0x02, 0x01, 0x02, 0x04, 0x40, 0x40, 0x40, 0x40, 0x40, // \ ] ^ _
  0x00, 0x01, 0x02, 0x04, 0x00, 0x20, 0x54, 0x54, 0x54, 0x78, 0x7f, 0x48, 0x44, 0x44, 0x38, 0x38, 0x44, 0x44, 0x44, 0x20, // ` a b c
  0x38, 0x44, 0x44, 0x48, 0x7f, 0x38, 0x54, 0x54, 0x54, 0x18, 0x08, 0x7e, 0x09, 0x01, 0x02, 0x08, 0x14, 0x54, 0x54, 0x3c, // d e f g
  0x7f, 0x08, 0x04, 0x04, 0x78, 0x00, 0x44, 0x7d, 0x40, 0x00, 0x20, 0x40, 0x44, 0x3d, 0x00, 0x00, 0x7f, 0x10, 0x28, 0x44, // h i j k
  0x00, 0x41, 0x7f, 0x40, 0x00, 0x7c, 0x04, 0x18, 0x04, 0x78, 0x7c, 0x08, 0x04, 0x04, 0x78, 0x38, 0x44, 0x44, 0x44, 0x38, // l m n o
  0x7c, 0x14, 0x14, 0x14, 0x08, 0x08, 0x14, 0x14, 0x18, 0x7c, 0x7c, 0x08, 0x04, 0x04, 0x08, 0x48, 0x54, 0x54, 0x54, 0x20, // p q r s
  0x04, 0x3f, 0x44, 0x40, 0x20, 0x3c, 0x40, 0x40, 0x20, 0x7c, 0x1c, 0x20, 0x40, 0x20, 0x1c, 0x3c, 0x40, 0x30, 0x40, 0x3c, // t u v w
  0x44, 0x28, 0x10, 0x28, 0x44, 0x0c, 0x50, 0x50, 0x50, 0x3c, 0x44, 0x64, 0x54, 0x4c, 0x44, 0x00, 0x08, 0x36, 0x41, 0x00, // x y z {
  0x00, 0x00, 0x7f, 0x00, 0x00, 0x00, 0x41, 0x36, 0x08, 0x00, 0x08, 0x04, 0x08, 0x10, 0x08, // | } ~
];
