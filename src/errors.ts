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
