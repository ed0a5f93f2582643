// The app icon, build/icon.png (512×512), drawn here so the repository holds its source: a payment
// card with a chip on a dark rounded square. electron-builder derives the Windows .ico, the macOS
// .icns and the Linux sizes from this one PNG. `npx tsx electron/shell-build/make-icon.ts` rewrites it;
// the installer test checks the file is what this draws.
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

export function drawIcon(): Buffer {
  const row = 1 + ICON_SIZE * 4;
  const raw = Buffer.alloc(row * ICON_SIZE);
  for (let y = 0; y < ICON_SIZE; y++) {
    raw[y * row] = 0; // filter: none
    for (let x = 0; x < ICON_SIZE; x++) raw.set(pixel(x, y), y * row + 1 + x * 4);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(ICON_SIZE, 0);
  header.writeUInt32BE(ICON_SIZE, 4);
  header.set([8, 6, 0, 0, 0], 8); // 8 bits per channel, RGBA, deflate, no filter set, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
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

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(ICON_PATH, drawIcon());
  console.log(`wrote ${ICON_PATH}`);
}
