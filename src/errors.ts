/**
 * An error the user can act on (bad option, unreadable file, missing kernel feature):
 * the CLI prints its message as one line and exits with `exitCode`. Here rather than in
 * cli/ so every layer can raise it without depending on the CLI.
 */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

/** Commander's message as one line: its lines joined, blank ones dropped. */
export function oneLine(msg: string): string {
  return msg
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join(' ');
}

/**
 * Text from outside (a file's line, a peer's field, a library's message) quoted in an error:
 * control characters and line breaks as spaces, runs of spaces as one, at most `max`
 * characters — so every message stays one short line (the fuzz pass found messages of 1.5 M
 * characters and JSON errors over several lines).
 */
export function clipText(s: string, max = 200): string {
  // eslint-disable-next-line no-control-regex
  const one = s.replace(/[\s\x00-\x1f\x7f]+/g, ' ');
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/** The shell's exit status for a run ended by a signal: 128 + its number (SIGINT 130, SIGTERM 143). */
export const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;
export type StopSignal = keyof typeof SIGNAL_EXIT;
