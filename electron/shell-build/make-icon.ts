// The app icon, build/icon.png (512×512), drawn here so the repository holds its source: a payment
// card with a chip on a dark rounded square. electron-builder derives the Windows .ico, the macOS
// .icns and the Linux sizes from this one PNG; the operator screen's favicon
// (renderer/public/favicon.png, 64×64) is the same drawing, each pixel the average of the 8×8 it
// covers. `npx tsx electron/shell-build/make-icon.ts` rewrites both; the tests check the files are
// what this draws.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { ROOT } from './build-shell.js';

export const ICON_SIZE = 512;
type Rgba = readonly [number, number, number, number];

const BACKGROUND: Rgba = [22, 48, 74, 255];
const CARD: Rgba = [242, 246, 250, 255];
const STRIPE: Rgba = [46, 125, 160, 255];
const CHIP: Rgba = [224, 178, 72, 255];
const CLEAR: Rgba = [0, 0, 0, 0];

/** Inside a rectangle with rounded corners (x0, y0 inclusive; x1, y1 exclusive). */
function inRoundedRect(
  x: number,
  y: number,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  r: number,
): boolean {
  if (x < x0 || x >= x1 || y < y0 || y >= y1) return false;
  const cx = Math.min(Math.max(x, x0 + r), x1 - 1 - r);
  const cy = Math.min(Math.max(y, y0 + r), y1 - 1 - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}

function pixel(x: number, y: number): Rgba {
  if (!inRoundedRect(x, y, 0, 0, ICON_SIZE, ICON_SIZE, 96)) return CLEAR;
  if (inRoundedRect(x, y, 136, 204, 224, 268, 10)) return CHIP;
  if (y >= 316 && y < 340 && x >= 136 && x < 376) return STRIPE;
  if (inRoundedRect(x, y, 96, 148, 416, 364, 28)) return CARD;
  return BACKGROUND;
}

/** The icon at `size` pixels (a divisor of 512): each pixel averages the block of the 512 drawing it covers. */
export function drawIcon(size = ICON_SIZE): Buffer {
  const scale = ICON_SIZE / size;
  if (!Number.isInteger(scale)) throw new Error(`the icon size must divide ${ICON_SIZE}`);
  const row = 1 + size * 4;
  const raw = Buffer.alloc(row * size);
  for (let y = 0; y < size; y++) {
    raw[y * row] = 0; // filter: none
    for (let x = 0; x < size; x++) raw.set(averaged(x * scale, y * scale, scale), y * row + 1 + x * 4);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8); // 8 bits per channel, RGBA, deflate, no filter set, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** The average colour of a scale×scale block, weighted by alpha (so the clear corners do not darken it). */
function averaged(x0: number, y0: number, scale: number): Rgba {
  if (scale === 1) return pixel(x0, y0);
  let r = 0;
  let g = 0;
  let b = 0;
  let a = 0;
  for (let y = y0; y < y0 + scale; y++)
    for (let x = x0; x < x0 + scale; x++) {
      const p = pixel(x, y);
      r += p[0] * p[3];
      g += p[1] * p[3];
      b += p[2] * p[3];
      a += p[3];
    }
  if (a === 0) return CLEAR;
  return [Math.round(r / a), Math.round(g / a), Math.round(b / a), Math.round(a / (scale * scale))];
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = (CRC_TABLE[(c ^ b) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export const ICON_PATH = join(ROOT, 'build', 'icon.png');
export const FAVICON_SIZE = 64;
export const FAVICON_PATH = join(ROOT, 'renderer', 'public', 'favicon.png');

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(ICON_PATH, drawIcon());
  writeFileSync(FAVICON_PATH, drawIcon(FAVICON_SIZE));
  console.log(`wrote ${ICON_PATH} and ${FAVICON_PATH}`);
}
