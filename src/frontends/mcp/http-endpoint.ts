import type { IncomingMessage, ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createMcpServer, type ToolContext } from './tools.js';

/**
 * MCP over Streamable HTTP at `/mcp`, stateless: every POST carries its bearer credential, is
 * identified afresh, and gets its own server and transport bound to that principal. No MCP
 * session outlives a request, so an expired or revoked token stops working at the next call
 * and any gateway instance can serve any request.
 * https://modelcontextprotocol.io/specification/2025-06-18/basic/transports#streamable-http
 *
 * Responses are plain JSON rather than an SSE stream: tools return one result each, and a
 * JSON body is bounded by the listener's request timeout like every other endpoint.
 */
export async function serveMcpPost(req: IncomingMessage, res: ServerResponse, body: unknown, ctx: ToolContext): Promise<void> {
  const server = createMcpServer(ctx);
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, body);
}
