/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728), which the MCP authorization spec uses so a
 * client that got a 401 can discover which authorization server issues tokens for this
 * gateway: https://modelcontextprotocol.io/specification/2025-06-18/basic/authorization
 *
 * Served at `/.well-known/oauth-protected-resource/mcp` (the resource `<base>/mcp`) and at
 * `/.well-known/oauth-protected-resource` (the whole gateway, `<base>/`), both naming the
 * configured OIDC issuers as authorization servers.
 */
export const METADATA_PATH = '/.well-known/oauth-protected-resource';

export interface ResourceMetadataInput {
  readonly base: string;
  /** `''` for the whole gateway, `/mcp` for the MCP endpoint. */
  readonly resourcePath: '' | '/mcp';
  readonly issuers: readonly string[];
  readonly scopes: readonly string[];
}

export function resourceMetadata(i: ResourceMetadataInput): Record<string, unknown> {
  return {
    resource: i.resourcePath === '' ? `${i.base}/` : `${i.base}${i.resourcePath}`,
    authorization_servers: i.issuers,
    bearer_methods_supported: ['header'],
    resource_name: 'Portcullis',
    ...(i.scopes.length > 0 ? { scopes_supported: i.scopes } : {}),
  };
}

export function metadataUrl(base: string, resourcePath: '' | '/mcp'): string {
  return `${base}${METADATA_PATH}${resourcePath}`;
}
