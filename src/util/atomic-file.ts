// Writes a small file so a crash leaves the old version or the new one, never half of either:
// write a temp file beside it, fsync it, rename it over the old one.
import { open, rename } from 'node:fs/promises';

export async function writeFileAtomic(file: string, body: string | Buffer): Promise<void> {
  const tmp = `${file}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(body);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
}
