/**
 * Text from outside (users, models, tools, the failure messages of runs) made inert before it reaches a
 * person's terminal: a control character in it could clear the screen (`ESC [2J`), retitle the window
 * (`ESC ]0;…BEL`), rewrite what was printed above (CR, backspace, cursor moves) or hide text. Shared by
 * whatever prints such text for people (the CLI); JSON output escapes it by itself.
 */

/**
 * Every C0 control but tab and newline, DEL, and every C1 control (U+0080–U+009F; a terminal may read
 * U+009B alone as CSI, the one-character `ESC [`).
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * `text` with each control character but newline and tab written out as its escape (`\u001b`), as
 * JSON writes it: visible, inert, and one character at a time, so text cut anywhere (a stream's
 * chunks) comes out the same as whole, and text made inert twice is unchanged.
 */
export function terminalSafe(text: string): string {
  return text.replace(CONTROL_CHARACTERS, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
