import type { PGlite } from '@electric-sql/pglite';
import { CATALOG_STATEMENTS, CatalogSnapshot, type CatalogRow, type CatalogRows } from '../catalog-snapshot.js';

/**
 * Reads the catalog straight from PGlite, in a transaction of its own between client
 * transactions (`exclusive`), so no wire session is spent and no client sees the SET LOCALs.
 *
 * @example
 *   const snap = await loadEmbeddedCatalog(server, Date.now());
 */
export async function loadEmbeddedCatalog(server: { exclusive<T>(fn: (db: PGlite) => Promise<T>): Promise<T> }, loadedAt: number): Promise<CatalogSnapshot> {
  const rows = await server.exclusive((db) =>
    db.transaction(async (tx) => {
      const out: Partial<Record<keyof CatalogRows, CatalogRow[]>> = {};
      for (const step of CATALOG_STATEMENTS) {
        const result = await tx.query<CatalogRow>(step.sql, [], { rowMode: 'array' });
        if (step.rows !== undefined) out[step.rows] = result.rows;
      }
      return out as CatalogRows;
    }),
  );
  return CatalogSnapshot.fromRows(rows, loadedAt);
}
