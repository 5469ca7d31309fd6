/**
 * Time cells of imported logs: seconds, or a date-time as loggers write them — the
 * drive-test style `YYYY.MM.DD_HH.MM.SS` and ISO 8601 (`2020-01-16T12:10:03.5Z`, a space
 * for the T, an offset or none). Only differences matter (the trace starts at 0), so a
 * date-time without an offset is read as UTC: a log crossing a daylight-saving change
 * would be off by that hour, which the gap warning then shows.
 */
import { parseNumber } from '../numbers';

const DOTTED = /^(\d{4})\.(\d{2})\.(\d{2})_(\d{2})\.(\d{2})\.(\d{2}(?:\.\d+)?)$/;
const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?(Z|[+-]\d{2}:?\d{2})?$/;

/** Seconds (a plain number, or a date-time as seconds since 1970), or null. */
export function parseTimeCell(cell: string): number | null {
  const n = parseNumber(cell);
  if (n !== null) return n;
  const t = cell.trim();
  const d = DOTTED.exec(t);
  if (d) return utcSeconds(d.slice(1, 6).map(Number), Number(d[6]), 'Z');
  const i = ISO.exec(t);
  if (i) return utcSeconds(i.slice(1, 6).map(Number), Number(i[6] ?? 0), i[7] ?? 'Z');
  return null;
}

function utcSeconds([y, mo, d, h, mi]: number[], s: number, zone: string): number | null {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s >= 61) return null;
  const base = Date.UTC(y, mo - 1, d, h, mi, 0);
  // Date.UTC rolls 31 February over into March: refuse what is not a calendar day.
  if (new Date(base).getUTCDate() !== d) return null;
  const ms = base + s * 1000;
  const off = zone === 'Z' ? 0 : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(-2)));
  return ms / 1000 - off * 60;
}
