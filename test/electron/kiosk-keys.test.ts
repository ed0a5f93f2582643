// Which keys a kiosk window lets through: typing and text editing pass; closing keys ask for the exit
// PIN; DevTools, reload, print, zoom, full screen and every other command chord are swallowed.
import { describe, expect, it } from 'vitest';
import { kioskKeyAction } from '../../electron/shell/kiosk-keys.js';

const key = (k: string, mods: { control?: boolean; alt?: boolean; shift?: boolean; meta?: boolean } = {}) =>
  kioskKeyAction({
    type: 'keyDown',
    key: k,
    code: '',
    control: false,
    alt: false,
    shift: false,
    meta: false,
    ...mods,
  });

describe('kiosk keys', () => {
  it('let typing and the editing shortcuts of a text field through', () => {
    for (const k of ['1', '9', 'a', 'Enter', 'Backspace', 'Tab', 'ArrowDown', 'Escape', ' ', ',', '.']) {
      expect(key(k), k).toBe('allow');
    }
    expect(key('A', { shift: true })).toBe('allow');
    expect(key('Tab', { shift: true })).toBe('allow');
    for (const k of ['a', 'c', 'v', 'x', 'z', 'y']) expect(key(k, { control: true }), k).toBe('allow');
    expect(key('v', { meta: true })).toBe('allow');
  });

  it('turn the closing keys into a request for the exit PIN', () => {
    expect(key('F4', { alt: true })).toBe('exit-request');
    expect(key('w', { control: true })).toBe('exit-request');
    expect(key('W', { control: true, shift: true })).toBe('exit-request');
    expect(key('q', { control: true })).toBe('exit-request');
    expect(key('q', { meta: true })).toBe('exit-request');
    expect(key('w', { meta: true })).toBe('exit-request');
  });

  it('swallow DevTools, reload, print, zoom, full screen, menus and other command chords', () => {
    const blocked: [string, Parameters<typeof key>[1]][] = [
      ['I', { control: true, shift: true }],
      ['J', { control: true, shift: true }],
      ['C', { control: true, shift: true }],
      ['i', { meta: true, alt: true }],
      ['F12', {}],
      ['F11', {}],
      ['F5', {}],
      ['F1', {}],
      ['r', { control: true }],
      ['R', { control: true, shift: true }],
      ['p', { control: true }],
      ['n', { control: true }],
      ['t', { control: true }],
      ['s', { control: true }],
      ['u', { control: true }],
      ['+', { control: true }],
      ['-', { control: true }],
      ['0', { control: true }],
      ['h', { meta: true }],
      ['m', { meta: true }],
      ['Alt', { alt: true }],
      ['ArrowLeft', { alt: true }],
      ['f', { alt: true }],
      ['Tab', { alt: true }],
      ['F4', { control: true }],
    ];
    for (const [k, mods] of blocked) expect(key(k, mods), `${JSON.stringify(mods)} ${k}`).toBe('block');
  });
});
