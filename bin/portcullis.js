#!/usr/bin/env node
// snowflake-sdk probes cloud metadata endpoints on import; the gateway never wants that.
process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION ??= 'true';
await import('../dist/cli/main.js');
