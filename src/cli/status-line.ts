/**
 * Progress of a long command on stderr: on a terminal one line rewritten in place; in a log
 * (not a terminal) one line per step, the per-picture counts ("…: picture N") left out.
 */
export function statusLine(msg: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2Ktestbed: ${msg}`);
  else if (!/picture \d+$/.test(msg)) process.stderr.write(`testbed: ${msg}\n`);
}

/** Clears the terminal's status line before the command's own output. */
export function endStatusLine(): void {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
}
