// A small ESC/POS decoder for the tests: turns printer bytes back into the lines a printer would print,
// with the code pages selected by ESC t (numbers from Epson's ESC/POS reference), and refuses any
// control byte or command it does not know, so a stray command in the bytes fails the test.
import CodepageEncoder from '@point-of-sale/codepage-encoder';

/** ESC t n → code page, as Epson's command reference numbers them (the ones a receipt may need). */
const EPSON_CODE_PAGES: Record<number, string> = {
  0: 'cp437',
  2: 'cp850',
  13: 'cp857',
  16: 'windows1252',
  17: 'cp866',
  18: 'cp852',
  19: 'cp858',
};

export interface DecodedReceipt {
  /** The printed lines, without trailing spaces. */
  lines: string[];
  /** Lines printed in bold (any part of them). */
  boldLines: string[];
  /** Lines printed in the small font (font B), which holds more characters a line. */
  smallLines: string[];
  /** The commands seen, by name, in order of first use. */
  commands: string[];
  cut: boolean;
}

export function decodeEscPos(bytes: Uint8Array): DecodedReceipt {
  const lines: string[] = [];
  const boldLines = new Set<string>();
  const smallLines = new Set<string>();
  let small = false;
  const commands = new Set<string>();
  let line = '';
  let bold = false;
  let lineBold = false;
  let table: (number | undefined)[] = codepoints('cp437');
  let cut = false;
  let i = 0;
  const arg = () => {
    if (i >= bytes.length) throw new Error(`command cut short at byte ${i}`);
    return bytes[i++] as number;
  };
  const endLine = () => {
    const text = line.trimEnd();
    lines.push(text);
    if (lineBold) boldLines.add(text);
    if (small) smallLines.add(text);
    line = '';
    lineBold = bold;
  };
  while (i < bytes.length) {
    const b = bytes[i++] as number;
    if (b === 0x0a) {
      endLine();
      continue;
    }
    if (b === 0x0d) continue;
    if (b === 0x1b) {
      const c = arg();
      const name = `ESC ${String.fromCharCode(c)}`;
      commands.add(name);
      switch (c) {
        case 0x40: // ESC @ initialize
          bold = false;
          small = false;
          table = codepoints('cp437');
          break;
        case 0x45: // ESC E n bold
          bold = (arg() & 1) === 1;
          if (bold) lineBold = true;
          break;
        case 0x4d: // ESC M n font: 0 standard, 1 small
          small = (arg() & 1) === 1;
          break;
        case 0x61: // ESC a n justification
        case 0x2d: // ESC - n underline
        case 0x64: // ESC d n feed n lines
        case 0x33: // ESC 3 n line spacing
          arg();
          break;
        case 0x74: {
          const n = arg();
          const page = EPSON_CODE_PAGES[n];
          if (!page) throw new Error(`ESC t ${n}: a code page this decoder does not know`);
          table = codepoints(page);
          break;
        }
        case 0x32: // ESC 2 default line spacing
          break;
        default:
          throw new Error(`unknown command ESC 0x${c.toString(16)} at byte ${i - 2}`);
      }
      continue;
    }
    if (b === 0x1d) {
      const c = arg();
      commands.add(`GS ${String.fromCharCode(c)}`);
      if (c === 0x21)
        arg(); // GS ! n character size
      else if (c === 0x42)
        arg(); // GS B n reverse
      else if (c === 0x56) {
        const m = arg();
        if (m === 65 || m === 66) arg();
        cut = true;
      } else throw new Error(`unknown command GS 0x${c.toString(16)} at byte ${i - 2}`);
      continue;
    }
    if (b === 0x1c) {
      const c = arg();
      commands.add(`FS ${String.fromCharCode(c)}`);
      if (c !== 0x2e) throw new Error(`unknown command FS 0x${c.toString(16)}`);
      continue;
    }
    if (b < 0x20 || b === 0x7f)
      throw new Error(`control byte 0x${b.toString(16)} in the text at byte ${i - 1}`);
    const cp = table[b];
    if (cp === undefined) throw new Error(`byte 0x${b.toString(16)} has no character in the code page`);
    line += String.fromCodePoint(cp);
  }
  if (line !== '') endLine();
  return { lines, boldLines: [...boldLines], smallLines: [...smallLines], commands: [...commands], cut };
}

function codepoints(page: string): (number | undefined)[] {
  if (!CodepageEncoder.supports(page)) throw new Error(`no table for ${page}`);
  return CodepageEncoder.getEncoding(page as never).codepoints as (number | undefined)[];
}
