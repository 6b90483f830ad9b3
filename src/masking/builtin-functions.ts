/**
 * PostgreSQL built-in functions, as lineage sees them. A function on the pure list computes
 * its result from its arguments, so the output carries exactly the arguments' lineage. A
 * function on the reading list fetches data that is not among its arguments — it runs SQL
 * given as text, reads a session setting that an earlier statement may have filled with a
 * sensitive value, or reads files and large objects — so its output has unknown lineage.
 * Any function on neither list (a user function, an extension) is treated as reading.
 * https://www.postgresql.org/docs/current/functions.html
 */
const PURE = `
abs acos acosd asin asind atan atan2 atand cbrt ceil ceiling cos cosd cot degrees div exp factorial floor gcd lcm ln log log10
min_scale mod pi power radians random random_normal round scale sign sin sind sqrt tan tand trim_scale trunc width_bucket setseed
ascii bit_length btrim char_length character_length chr concat concat_ws convert convert_from convert_to decode encode format
initcap left length lower lpad ltrim md5 normalize octet_length overlay position quote_ident quote_literal quote_nullable
regexp_count regexp_instr regexp_like regexp_match regexp_matches regexp_replace regexp_split_to_array regexp_split_to_table
regexp_substr repeat replace reverse right rpad rtrim split_part starts_with string_to_array string_to_table strpos substr
substring to_ascii to_bin to_char to_date to_hex to_number to_oct to_timestamp translate trim unistr upper casefold
sha224 sha256 sha384 sha512 crc32 crc32c get_bit get_byte set_bit set_byte bit_count unicode_assigned
array_agg array_append array_cat array_dims array_fill array_length array_lower array_ndims array_position array_positions
array_prepend array_remove array_replace array_reverse array_sample array_shuffle array_sort array_to_string array_upper
cardinality trim_array unnest generate_subscripts generate_series
json_agg json_agg_strict json_array_elements json_array_elements_text json_array_length json_build_array json_build_object
json_each json_each_text json_extract_path json_extract_path_text json_object json_object_agg json_object_agg_strict
json_object_agg_unique json_object_agg_unique_strict json_object_keys json_populate_record json_populate_recordset
json_strip_nulls json_to_record json_to_recordset json_typeof array_to_json row_to_json to_json json_scalar json_serialize
jsonb_agg jsonb_agg_strict jsonb_array_elements jsonb_array_elements_text jsonb_array_length jsonb_build_array
jsonb_build_object jsonb_concat jsonb_delete jsonb_delete_path jsonb_each jsonb_each_text jsonb_extract_path
jsonb_extract_path_text jsonb_insert jsonb_object jsonb_object_agg jsonb_object_agg_strict jsonb_object_agg_unique
jsonb_object_agg_unique_strict jsonb_object_keys jsonb_path_exists jsonb_path_match jsonb_path_query jsonb_path_query_array
jsonb_path_query_first jsonb_populate_record jsonb_populate_recordset jsonb_pretty jsonb_set jsonb_set_lax jsonb_strip_nulls
jsonb_to_record jsonb_to_recordset jsonb_typeof to_jsonb
string_agg xmlagg avg bit_and bit_or bit_xor bool_and bool_or count every max min sum stddev stddev_pop stddev_samp variance
var_pop var_samp corr covar_pop covar_samp regr_avgx regr_avgy regr_count regr_intercept regr_r2 regr_slope regr_sxx regr_sxy
regr_syy mode percentile_cont percentile_disc any_value range_agg range_intersect_agg
row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value nth_value
coalesce nullif greatest least num_nonnulls num_nulls
now current_date current_time current_timestamp localtime localtimestamp clock_timestamp statement_timestamp
transaction_timestamp timeofday age date_part date_trunc date_bin extract isfinite justify_days justify_hours justify_interval
make_date make_interval make_time make_timestamp make_timestamptz to_timestamp timezone
gen_random_uuid uuidv4 uuidv7 uuid_extract_timestamp uuid_extract_version
host hostmask masklen netmask network set_masklen text abbrev broadcast family inet_merge inet_same_family
xmlelement xmlforest xmlconcat xmlparse xmlserialize xmlroot xmlcomment xmlpi xpath xpath_exists xmlexists xml_is_well_formed
xmltext to_tsvector to_tsquery plainto_tsquery phraseto_tsquery websearch_to_tsquery ts_headline ts_rank ts_rank_cd
setweight strip tsvector_to_array array_to_tsvector numnode querytree ts_rewrite
int2 int4 int8 float4 float8 numeric bool varchar bpchar name date time timestamp timestamptz interval bytea inet cidr json jsonb
textcat textlen bpchar_larger bpchar_smaller texticlike textlike textnlike
pg_typeof pg_column_size pg_size_pretty format_type obj_description col_description pg_get_expr current_user session_user current_role current_schema current_schemas
current_database current_catalog version user pg_backend_pid inet_client_addr inet_server_addr
set_config nextval currval lastval setval pg_notify pg_sleep txid_current pg_current_xact_id
row lower_inc upper_inc lower_inf upper_inf isempty range_merge multirange
`;

/** Built-ins whose result holds data that is not among their arguments. */
const READING = `
query_to_xml query_to_xmlschema query_to_xml_and_xmlschema table_to_xml table_to_xmlschema table_to_xml_and_xmlschema
cursor_to_xml cursor_to_xmlschema schema_to_xml schema_to_xmlschema schema_to_xml_and_xmlschema database_to_xml
database_to_xmlschema database_to_xml_and_xmlschema current_setting pg_read_file pg_read_binary_file pg_ls_dir lo_get loread
lo_export ts_stat dblink dblink_exec dblink_get_result dblink_fetch pg_stat_get_activity pg_get_backend_memory_contexts
pg_logical_slot_get_changes pg_logical_slot_peek_changes pg_logical_slot_get_binary_changes pg_logical_slot_peek_binary_changes
`;

const words = (s: string): ReadonlySet<string> => new Set(s.split(/\s+/).filter((w) => w.length > 0));

export const PURE_BUILTINS = words(PURE);
export const READING_BUILTINS = words(READING);
