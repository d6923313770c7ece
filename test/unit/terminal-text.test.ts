/**
 * Text from outside made inert for a terminal (src/terminal-text.ts, issue #21): played into xterm's
 * headless terminal, hostile text neither clears the screen, retitles the window, moves the cursor nor
 * rings the bell; it shows as escapes, and newlines and tabs still work.
 */
import { Terminal } from '@xterm/headless';
import { terminalSafe } from '../../src/terminal-text';

/** Hostile text: clear the screen, set the window title (OSC … BEL), a carriage return, a one-character CSI, backspace, DEL. */
const HOSTILE = 'before\x1b[2J\x1b]0;pwned\x07 over\rwrite \x9b31m red\b\x7f after';

/** What a terminal shows after `text`: its rows, its window title and how often it rang. */
async function play(text: string): Promise<{ rows: string[]; title: string; bells: number }> {
  const terminal = new Terminal({ cols: 120, rows: 10, allowProposedApi: true, convertEol: true });
  let title = '';
  let bells = 0;
  terminal.onTitleChange((changed) => (title = changed));
  terminal.onBell(() => (bells += 1));
  await new Promise<void>((resolve) => terminal.write(text, resolve));
  const buffer = terminal.buffer.active;
  const rows = Array.from({ length: buffer.length }, (_, row) => buffer.getLine(row)?.translateToString(true) ?? '');
  terminal.dispose();
  while (rows.length && rows.at(-1) === '') rows.pop();
  return { rows, title, bells };
}

describe('terminalSafe', () => {
  it('raw, hostile text clears the screen and retitles the window: the threat is real', async () => {
    const shown = await play(`first line\n${HOSTILE}\n`);
    expect(shown.title).toBe('pwned');
    expect(shown.rows).not.toContain('first line');
  });

  it('shows every control character but newline and tab as its escape, obeying none', async () => {
    const safe = terminalSafe(`first line\n${HOSTILE}\n\ttabbed\n`);
    const escaped = 'before\\u001b[2J\\u001b]0;pwned\\u0007 over\\u000dwrite \\u009b31m red\\u0008\\u007f after';
    expect(safe).toBe(`first line\n${escaped}\n\ttabbed\n`);
    // Nothing but newline and tab is left of C0, DEL and C1.
    const controls = [...safe]
      .map((char) => char.charCodeAt(0))
      .filter((code) => code < 0x20 || (code >= 0x7f && code <= 0x9f));
    expect(controls.map((code) => String.fromCharCode(code))).toEqual(['\n', '\n', '\t', '\n']);
    expect(await play(safe)).toEqual({ rows: ['first line', escaped, `${' '.repeat(8)}tabbed`], title: '', bells: 0 });
  });

  it('is the same whole or in pieces, and changes nothing the second time', () => {
    const safe = terminalSafe(HOSTILE);
    const pieces = HOSTILE.match(/[\s\S]{1,3}/g)!
      .map(terminalSafe)
      .join('');
    expect(pieces).toBe(safe);
    expect(terminalSafe(safe)).toBe(safe);
    expect(terminalSafe('plain text, ünïcödé, 中文 and 🙂')).toBe('plain text, ünïcödé, 中文 and 🙂');
  });
});
