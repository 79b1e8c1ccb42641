// The MCP server's files, as the control plane renders them (activities/services/mcp-config.ts) and the server
// reads them (services/mcp/server.ts).

export interface McpConfig {
  port: number;
  database: {
    /** In order: the target nodes' instances, local ones first. */
    hosts: { host: string; port: number }[];
    target_session_attrs: 'primary' | 'prefer-standby' | 'standby' | 'read-write' | 'any';
    dbname: string;
    user: string;
    password: string;
    allow_writes: boolean;
    pool_max_conns: number;
  };
  tools: { query_database: boolean; get_schema_info: boolean; execute_explain: boolean; count_rows: boolean };
  /** Where the HTTP auth file is (written once, at the service's creation: init_token / init_users). */
  authFile: string;
}

/** init_token as its sha256, init_users with scrypt hashes: nothing here opens to the clear values. */
export interface McpAuthFile {
  tokens: string[];
  users: { username: string; salt: string; hash: string }[];
}
