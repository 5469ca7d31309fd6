/**
 * A trace that cannot be read, parsed, imported or transformed. The message is one line
 * the user can act on (`FILE line N: what is wrong`); the CLI turns it into a usage
 * error (exit 2). Kept apart from cli/session's UsageError so this folder does not
 * depend on the CLI.
 */
export class TraceError extends Error {
  override name = 'TraceError';
}
