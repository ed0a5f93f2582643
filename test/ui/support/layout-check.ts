// What "clean and legible" means for a screenshot, checked in the page rather than by eye alone: the
// page does not scroll either way, no element's content spills out of its box unless the box scrolls
// it, no text is smaller than 11 px, and the record views keep a usable height under the sale.
// Browser-side code is a string: the tests are type-checked without the DOM library.
import type { Page } from 'playwright-core';

const CHECK = `(() => {
  const problems = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > innerWidth) problems.push('page scrolls sideways: ' + doc.scrollWidth + ' > ' + innerWidth);
  if (doc.scrollHeight > innerHeight) problems.push('page scrolls down: ' + doc.scrollHeight + ' > ' + innerHeight);
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '') +
    (el.dataset.testid ? '[' + el.dataset.testid + ']' : '');
  for (const el of document.querySelectorAll('.app *')) {
    if (el.closest('[hidden]') || el.getClientRects().length === 0) continue;
    const style = getComputedStyle(el);
    const scrolls = (v) => v === 'auto' || v === 'scroll' || v === 'hidden';
    if (style.display !== 'inline' && el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1 &&
        !scrolls(style.overflowX)) problems.push('overflows sideways: ' + name(el));
    const hasText = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim() !== '');
    if (hasText && parseFloat(style.fontSize) < 11) problems.push('text under 11px: ' + name(el));
  }
  const desk = document.querySelector('.desk');
  if (desk && desk.clientHeight < 160) problems.push('record views squeezed to ' + desk.clientHeight + 'px');
  return problems;
})()`;

export function layoutProblems(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(CHECK);
}
