import Database from 'better-sqlite3';
import { PortcullisError } from '../errors/portcullis-error.js';

/**
 * One writing process per SQLite audit file. The chain head lives in the writer's memory and
 * its journal is ingested behind its back, so two writers would fork the chain. The lock is an
 * exclusive SQLite transaction held open on a side file: the operating system drops it when the
 * process dies, however it dies, so a crash never leaves a stale lock behind.
 */
export class StoreLock {
  readonly #db: Database.Database;

  private constructor(db: Database.Database) {
    this.#db = db;
  }

  /** @throws PortcullisError ERR_AUDIT_UNAVAILABLE when another gateway (or store) writes this file. */
  static acquire(path: string, dbLocation: string): StoreLock {
    const db = new Database(path);
    try {
      db.pragma('busy_timeout = 0');
      db.pragma('locking_mode = EXCLUSIVE');
      db.exec('BEGIN EXCLUSIVE');
      return new StoreLock(db);
    } catch (e) {
      db.close();
      if ((e as { code?: string }).code?.startsWith('SQLITE_BUSY')) {
        throw new PortcullisError(
          'ERR_AUDIT_UNAVAILABLE',
          `another gateway is already writing the audit store ${dbLocation} (lock ${path}); a SQLite store has one writer — give each gateway its own file, or share a PostgreSQL audit store between instances`,
        );
      }
      throw e;
    }
  }

  release(): void {
    this.#db.close();
  }
}
