/** Who is calling, as every stage after `identify` sees it. Never holds the credential itself. */
export interface Principal {
  /** Stable subject: the token's subject claim, or `key:<name>` for a service key. */
  readonly subject: string;
  readonly groups: readonly string[];
  /** The token issuer URL, or `portcullis:keys` for service keys. */
  readonly issuer: string;
  readonly authMethod: 'oidc' | 'service-key' | 'introspection';
  /** `jti` of the token or the key name; safe to record. */
  readonly tokenId?: string | undefined;
  /** Epoch milliseconds after which the credential is no longer valid. */
  readonly expiresAt?: number | undefined;
}

/** What the frontend knows about the connection the principal arrived on. */
export interface ClientInfo {
  readonly address: string;
  readonly frontend: FrontendName;
  /** The user name the client sent; recorded, never trusted. */
  readonly userName?: string | undefined;
  readonly applicationName?: string | undefined;
  readonly tls: boolean;
}

export type FrontendName = 'pgwire' | 'http' | 'mcp' | 'snowflake';
