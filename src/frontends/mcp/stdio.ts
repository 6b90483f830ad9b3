import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createMcpServer, type ToolContext } from './tools.js';

/**
 * MCP over stdio for local agents (`portcullis mcp`): one principal for the life of the
 * process, identified once from the credential the agent's launcher put in the environment.
 * Stdout carries only protocol messages; the log goes to stderr.
 */
export async function serveStdio(ctx: ToolContext): Promise<{ closed: Promise<void> }> {
  const server = createMcpServer(ctx);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    server.server.onclose = () => resolve();
  });
  await server.connect(transport);
  process.stdin.once('end', () => void server.close());
  return { closed };
}
