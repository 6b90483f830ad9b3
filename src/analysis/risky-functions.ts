import type { RiskFlag } from './facts.js';

/**
 * Functions whose call alone is a risk, keyed by the unqualified name PostgreSQL folds to.
 * Matching ignores the schema on purpose: a `public.pg_read_file` shadowing the catalog one, or
 * a search_path trick, must not turn a flagged call into an unflagged one. Qualified keys
 * (`cron.schedule`) are for extension functions whose bare name is too common to flag.
 */
const FILE_ACCESS = [
  'pg_read_file',
  'pg_read_binary_file',
  'pg_ls_dir',
  'pg_stat_file',
  'pg_ls_logdir',
  'pg_ls_waldir',
  'pg_ls_tmpdir',
  'pg_ls_archive_statusdir',
  'pg_ls_logicalmapdir',
  'pg_ls_logicalsnapdir',
  'pg_ls_replslotdir',
  'pg_ls_summariesdir',
  'pg_current_logfile',
  'pg_file_write',
  'pg_file_rename',
  'pg_file_unlink',
  'pg_file_sync',
  'pg_logdir_ls',
  'lo_import',
  'lo_export',
];

const SIDE_EFFECT = [
  'nextval',
  'setval',
  // Index maintenance: PostgreSQL lets these change index pages inside a read-only transaction.
  'brin_summarize_new_values',
  'brin_summarize_range',
  'brin_desummarize_range',
  'gin_clean_pending_list',
  'pg_terminate_backend',
  'pg_cancel_backend',
  'pg_reload_conf',
  'pg_rotate_logfile',
  'pg_switch_wal',
  'pg_create_restore_point',
  'pg_promote',
  'pg_backup_start',
  'pg_backup_stop',
  'pg_start_backup',
  'pg_stop_backup',
  'pg_wal_replay_pause',
  'pg_wal_replay_resume',
  'pg_create_physical_replication_slot',
  'pg_create_logical_replication_slot',
  'pg_drop_replication_slot',
  'pg_copy_physical_replication_slot',
  'pg_copy_logical_replication_slot',
  'pg_replication_slot_advance',
  'pg_logical_slot_get_changes',
  'pg_logical_slot_get_binary_changes',
  'pg_logical_emit_message',
  'pg_replication_origin_create',
  'pg_replication_origin_drop',
  'pg_replication_origin_advance',
  'pg_replication_origin_session_setup',
  'pg_stat_reset',
  'pg_stat_reset_shared',
  'pg_stat_reset_single_table_counters',
  'pg_stat_reset_single_function_counters',
  'pg_stat_reset_slru',
  'pg_stat_reset_replication_slot',
  'pg_stat_reset_subscription_stats',
  'pg_stat_statements_reset',
  'pg_log_backend_memory_contexts',
  'pg_import_system_collations',
  'pg_sync_replication_slots',
  'txid_current',
  'pg_current_xact_id',
  'lo_create',
  'lo_creat',
  'lo_unlink',
  'lo_open',
  'lo_write',
  'lowrite',
  'lo_put',
  'lo_from_bytea',
  'lo_truncate',
  'lo_truncate64',
  'lo_close',
];

const ADVISORY_LOCKS = [
  'pg_advisory_lock',
  'pg_advisory_lock_shared',
  'pg_advisory_xact_lock',
  'pg_advisory_xact_lock_shared',
  'pg_try_advisory_lock',
  'pg_try_advisory_lock_shared',
  'pg_try_advisory_xact_lock',
  'pg_try_advisory_xact_lock_shared',
  'pg_advisory_unlock',
  'pg_advisory_unlock_shared',
  'pg_advisory_unlock_all',
];

/** These run SQL text given as an argument, so the analyzer cannot see what they do. */
const RUNS_QUERY_TEXT = [
  'query_to_xml',
  'query_to_xmlschema',
  'query_to_xml_and_xmlschema',
  'cursor_to_xml',
  'cursor_to_xmlschema',
  'table_to_xml',
  'table_to_xmlschema',
  'table_to_xml_and_xmlschema',
  'schema_to_xml',
  'schema_to_xmlschema',
  'schema_to_xml_and_xmlschema',
  'database_to_xml',
  'database_to_xmlschema',
  'database_to_xml_and_xmlschema',
  'ts_stat',
  'ts_rewrite',
  'cron.schedule',
  'cron.schedule_in_database',
  'cron.alter_job',
  'pg_background_launch',
];

const DBLINK = [
  'dblink',
  'dblink_exec',
  'dblink_connect',
  'dblink_connect_u',
  'dblink_send_query',
  'dblink_open',
  'dblink_fetch',
  'dblink_get_result',
];

const TABLE = new Map<string, readonly RiskFlag[]>();
function add(names: readonly string[], risks: readonly RiskFlag[]): void {
  for (const n of names) TABLE.set(n, [...(TABLE.get(n) ?? []), ...risks]);
}
add(FILE_ACCESS, ['file-access']);
add(['lo_export', 'pg_read_file', 'pg_read_binary_file'], ['export']);
add(SIDE_EFFECT, ['side-effect-function']);
add(ADVISORY_LOCKS, ['side-effect-function', 'lock']);
add(['pg_notify'], ['side-effect-function', 'listen-notify']);
add(RUNS_QUERY_TEXT, ['dynamic-code']);
add(DBLINK, ['side-effect-function', 'dynamic-code', 'export']);
add(['pg_terminate_backend', 'pg_cancel_backend', 'pg_reload_conf', 'pg_promote'], ['privilege']);
/** set_config is decided by its first argument; see the walker. */
add(['set_config'], []);

/**
 * The risks of calling `qualified` (e.g. `pg_catalog.pg_read_file`), or undefined for an
 * ordinary function. An empty array means "look closer at the arguments".
 */
export function functionRisks(qualified: string, unqualified: string): readonly RiskFlag[] | undefined {
  return TABLE.get(unqualified) ?? (qualified === unqualified ? undefined : TABLE.get(qualified));
}
