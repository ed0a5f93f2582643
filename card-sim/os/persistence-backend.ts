// Where a card's persistent memory (its EEPROM) lives. A backend stores one serialized image and
// replaces it atomically: a reader sees the old image or the new one, never a mix.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export interface PersistenceBackend {
  load(): string | undefined;
  store(image: string): void;
}

export class MemoryBackend implements PersistenceBackend {
  constructor(private image?: string) {}
  load(): string | undefined {
    return this.image;
  }
  store(image: string): void {
    this.image = image;
  }
}

/** One file per card, replaced by write-temp, fsync, rename, fsync-directory. */
export class FileBackend implements PersistenceBackend {
  constructor(readonly path: string) {}

  load(): string | undefined {
    try {
      return readFileSync(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  store(image: string): void {
    const temp = `${this.path}.tmp`;
    const fd = openSync(temp, 'w', 0o600); // the image holds the card's secrets
    try {
      writeSync(fd, image);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.path);
    const dir = openSync(dirname(this.path), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  }
}
