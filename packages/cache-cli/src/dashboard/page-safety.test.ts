import { describe, expect, it } from 'vitest';
import { dashboardAssets } from './assets.js';

// The page must be safe under its Content-Security-Policy (script-src 'self', style-src 'self')
// and must never turn data into markup: the browser tests show that injected HTML stays text;
// these keep the ways it could stop being text out of the source.
const text = (name: string) => dashboardAssets().get(name)!.body.toString('utf8');

describe('the page', () => {
  it('never parses strings as HTML or code', () => {
    const script = text('page.js');
    for (const sink of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(', 'new Function', 'setAttribute(\'on', 'srcdoc']) {
      expect(script, sink).not.toContain(sink);
    }
  });

  it('has no inline script, style or event handler (the CSP would block them)', () => {
    const html = text('index.html');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
    expect(html).not.toMatch(/<style\b/i);
    expect(html).not.toMatch(/\sstyle=/i);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).not.toMatch(/https?:\/\//i);
  });

  it('serves uPlot with its licence, and nothing from a CDN', () => {
    expect(text('uPlot.iife.min.js')).toMatch(/^\/\*! uPlot, The MIT License \(MIT\)\s+Copyright \(c\) \d{4} Leon Sorokin/);
    for (const [name, asset] of dashboardAssets()) {
      if (name.startsWith('uPlot')) continue;
      expect(asset.body.toString('utf8'), name).not.toMatch(/(src|href)="https?:/);
    }
  });
});
