/**
 * A file's SHA-256, the key of everything cached about a clip. Hashing a 100 MB clip takes
 * a few hundred ms, too long for a sender's start-up (an experiment fixes trace time 0
 * 1.5 s after launching the peers), so a hash is remembered against the file's path, size,
 * modification time and inode in <cache>/hashes.json and recomputed whenever any changes.
 */
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from '../paths';

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function memoFile(): string {
  return join(cacheDir(), 'hashes.json');
}

function readMemo(): Record<string, string> {
  try {
    return JSON.parse(readFileSync(memoFile(), 'utf8')) as Record<string, string>;
  } catch {
    return {};
  }
}

export async function contentHash(path: string): Promise<string> {
  const st = statSync(path);
  const key = `${realpathSync(path)}|${st.size}|${st.mtimeMs}|${st.ino}`;
  const memo = readMemo();
  if (memo[key]) return memo[key];
  const sha = await sha256OfFile(path);
  // Re-read before writing: another process may have added entries meanwhile.
  const now = { ...readMemo(), [key]: sha };
  try {
    mkdirSync(cacheDir(), { recursive: true });
    const tmp = `${memoFile()}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(now));
    renameSync(tmp, memoFile());
  } catch {
    // An unwritable cache only costs hashing again next time.
  }
  return sha;
}
