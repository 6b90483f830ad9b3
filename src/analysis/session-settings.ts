/**
 * Run-time settings an agent must not change through the gateway. Each one either undoes a
 * guard the gateway or the DBA put in place (read-only transactions, timeouts, row security),
 * changes who the session acts as, or changes how the server reads SQL text so that it no
 * longer means what our parser saw (`standard_conforming_strings = off` turns backslashes in
 * '…' into escapes; `client_encoding` to a multibyte encoding such as SJIS lets a quote hide
 * inside a character). https://www.postgresql.org/docs/current/runtime-config-client.html
 */
const TAMPERING_SETTINGS: ReadonlySet<string> = new Set([
  'default_transaction_read_only',
  'transaction_read_only',
  'role',
  'session_authorization',
  'search_path',
  'statement_timeout',
  'lock_timeout',
  'idle_in_transaction_session_timeout',
  'idle_session_timeout',
  'transaction_timeout',
  'standard_conforming_strings',
  'backslash_quote',
  'escape_string_warning',
  'client_encoding',
  'row_security',
  'session_replication_role',
  'session_preload_libraries',
  'local_preload_libraries',
  'dynamic_library_path',
  'check_function_bodies',
  'lo_compat_privileges',
  'allow_system_table_mods',
  'ignore_system_indexes',
  'zero_damaged_pages',
  'ignore_checksum_failure',
  'default_tablespace',
  'temp_tablespaces',
  'jit_provider',
]);

/** Audit trails live in the server log; silencing it is tampering too. */
const TAMPERING_PREFIXES: readonly string[] = ['log_', 'debug_', 'plpgsql.', 'pgaudit.'];

/** `name` as PostgreSQL folds it (the parser already lower-cased unquoted names). */
export function isTamperingSetting(name: string): boolean {
  const n = name.toLowerCase();
  if (TAMPERING_SETTINGS.has(n)) return true;
  for (const p of TAMPERING_PREFIXES) if (n.startsWith(p)) return true;
  return false;
}

/** Settings that change which role the session acts as. */
export function isIdentitySetting(name: string): boolean {
  const n = name.toLowerCase();
  return n === 'role' || n === 'session_authorization';
}
