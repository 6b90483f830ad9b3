/**
 * Snowflake built-in functions, as lineage sees them (lower-case names). A function on the
 * pure list computes its result from its arguments only, so the output carries exactly the
 * arguments' lineage. A function on the reading list returns data that is not among its
 * arguments — earlier results, SQL it runs, session variables, object definitions — so its
 * output has unknown lineage. A function on neither list (a UDF, an external function,
 * anything newer than this list) is treated as reading.
 * https://docs.snowflake.com/en/sql-reference/functions-all
 */
const PURE = `
abs acos acosh asin asinh atan atan2 atanh cbrt ceil cos cosh cot degrees div0 div0null exp factorial floor haversine ln log
mod pi pow power radians round sign sin sinh sqrt square tan tanh trunc truncate width_bucket random uniform normal zipf
randstr seq1 seq2 seq4 seq8 uuid_string bitand bitor bitxor bitnot bitshiftleft bitshiftright getbit
ascii base64_decode_binary base64_decode_string base64_encode bit_length char chr charindex collate collation compress
concat concat_ws contains decompress_binary decompress_string editdistance endswith hex_decode_binary hex_decode_string
hex_encode ilike initcap insert jarowinkler_similarity left len length like lower lpad ltrim md5 md5_binary md5_hex
md5_number_lower64 md5_number_upper64 octet_length parse_ip parse_url position regexp regexp_count regexp_instr
regexp_like regexp_replace regexp_substr regexp_substr_all repeat replace reverse right rlike rpad rtrim rtrimmed_length
sha1 sha1_binary sha1_hex sha2 sha2_binary sha2_hex soundex soundex_p123 space split split_part startswith strtok
strtok_to_array substr substring translate trim try_base64_decode_binary try_base64_decode_string try_hex_decode_binary
try_hex_decode_string unicode upper hash hash_agg crc32 quote
array_agg array_append array_cat array_compact array_construct array_construct_compact array_contains array_distinct
array_except array_flatten array_generate_range array_insert array_intersection array_max array_min array_position
array_prepend array_remove array_remove_at array_reverse array_size array_slice array_sort array_sum array_to_string
array_union_agg array_unique_agg arrays_overlap arrays_to_object arrays_zip as_array as_binary as_boolean as_char as_date
as_decimal as_double as_integer as_number as_object as_real as_time as_timestamp_ltz as_timestamp_ntz as_timestamp_tz
as_varchar check_json check_xml get get_ignore_case get_path is_array is_binary is_boolean is_char is_date is_date_value
is_decimal is_double is_integer is_null_value is_object is_real is_time is_timestamp_ltz is_timestamp_ntz
is_timestamp_tz is_varchar json_extract_path_text object_agg object_construct object_construct_keep_null object_delete
object_insert object_keys object_pick parse_json parse_xml strip_null_value to_array to_json to_object to_variant to_xml
try_parse_json typeof xmlget flatten split_to_table strtok_split_to_table generator
any_value approx_count_distinct approx_percentile approx_percentile_accumulate approx_percentile_combine
approx_percentile_estimate approx_top_k approx_top_k_accumulate approx_top_k_combine approx_top_k_estimate
approximate_count_distinct approximate_jaccard_index approximate_similarity avg bitand_agg bitor_agg bitxor_agg
booland_agg boolor_agg boolxor_agg corr count count_if covar_pop covar_samp grouping grouping_id hll hll_accumulate
hll_combine hll_estimate hll_export hll_import kurtosis listagg max max_by median min min_by minhash minhash_combine
mode percentile_cont percentile_disc ratio_to_report regr_avgx regr_avgy regr_count regr_intercept regr_r2 regr_slope
regr_sxx regr_sxy regr_syy skew stddev stddev_pop stddev_samp sum var_pop var_samp variance variance_pop variance_samp
conditional_change_event conditional_true_event cume_dist dense_rank first_value lag last_value lead nth_value ntile
percent_rank rank row_number
booland boolnot boolor boolxor coalesce decode equal_null greatest greatest_ignore_nulls iff ifnull least
least_ignore_nulls nullif nullifzero nvl nvl2 regr_valx regr_valy zeroifnull
cast try_cast to_binary to_boolean to_char to_date to_decimal to_double to_geography to_geometry to_number to_numeric
to_time to_timestamp to_timestamp_ltz to_timestamp_ntz to_timestamp_tz to_varchar try_to_binary try_to_boolean
try_to_date try_to_decimal try_to_double try_to_number try_to_numeric try_to_time try_to_timestamp
try_to_timestamp_ltz try_to_timestamp_ntz try_to_timestamp_tz
add_months convert_timezone current_date current_time current_timestamp date date_from_parts date_part date_trunc dateadd
datediff day dayname dayofmonth dayofweek dayofweekiso dayofyear extract getdate hour last_day localtime localtimestamp
minute month monthname months_between next_day previous_day quarter second sysdate systimestamp time time_from_parts
time_slice timeadd timediff timestamp_from_parts timestamp_ltz_from_parts timestamp_ntz_from_parts
timestamp_tz_from_parts timestampadd timestampdiff week weekiso weekofyear year yearofweek yearofweekiso
current_account current_account_name current_available_roles current_client current_database current_ip_address
current_organization_name current_region current_role current_schema current_schemas current_secondary_roles
current_session current_transaction current_user current_version current_warehouse is_role_in_session
last_query_id last_transaction localtimestamp
`;

/** Built-ins whose result holds data that is not among their arguments. */
const READING = `
result_scan to_query getvariable get_ddl current_statement system$get_tag system$get_tag_on_current_column
system$get_tag_on_current_table
`;

const words = (s: string): ReadonlySet<string> => new Set(s.split(/\s+/).filter((w) => w.length > 0));

export const SNOWFLAKE_PURE_BUILTINS = words(PURE);
export const SNOWFLAKE_READING_BUILTINS = words(READING);
