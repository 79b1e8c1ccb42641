// RAG (pgEdge §5.7): its preflight on the first node's primary (the connect_as role, and every table a pipeline
// names with its text, vector and id columns, the vector column of pgvector's type), and its configuration (pure):
// pgedge-rag-server.yaml with one database block per pipeline and each LLM key as a file path, the keys themselves
// apart. Its container needs pgEdge's RAG server image, which no registry here serves: that step fails with
// "image … is not available" before anything is made (service-instances.ts).
import type { ServiceSpec } from '../../api/schemas/database-spec.js';
import { sessionAttrs } from '../../workflows/model/services.js';
import { loadDatabase } from '../database-context.js';
import type { HostDeps } from '../deps.js';
import { FailureType, permanent } from '../errors.js';
import { resolvePrimary } from '../postgres/node-database.js';
import { withClient } from '../postgres/connect.js';

interface RagTable { table: string; text_column: string; vector_column: string; id_column?: string }
interface RagLlm { provider: string; model: string; api_key?: string; base_url?: string }
interface RagPipeline {
  name: string; description?: string; tables: RagTable[]; embedding_llm: RagLlm; rag_llm: RagLlm;
  token_budget?: number; top_n?: number; system_prompt?: string; search?: { hybrid_enabled?: boolean; vector_weight?: number };
}

/** Where the server reads its keys (mounted read-only, pgEdge: `/app/keys`). */
export const ragKeysDir = '/app/keys';

const pipelinesOf = (s: ServiceSpec): RagPipeline[] => (Array.isArray(s.config?.pipelines) ? s.config.pipelines as RagPipeline[] : []);

/**
 * The server's configuration and its key files. JSON is YAML, so the text is the server's YAML config; no key is in
 * it, only the path of the file that holds it (`<pipeline>-embedding.key`, `<pipeline>-rag.key`).
 */
export function ragConfig(s: ServiceSpec, db: { dbname: string; user: string; password: string; hosts: { host: string; port: number }[] }): { text: string; keys: Record<string, string> } {
  const keys: Record<string, string> = {};
  const defaults = (s.config?.defaults ?? {}) as { token_budget?: number; top_n?: number };
  const llm = (p: RagPipeline, which: 'embedding' | 'rag', l: RagLlm) => {
    const file = `${p.name}-${which}.key`;
    if (l.api_key !== undefined) keys[file] = l.api_key;
    return { provider: l.provider, model: l.model, ...(l.base_url !== undefined ? { base_url: l.base_url } : {}) };
  };
  const pipelines = pipelinesOf(s).map((p) => ({
    name: p.name,
    ...(p.description !== undefined ? { description: p.description } : {}),
    database: {
      hosts: db.hosts, database: db.dbname, user: db.user, password: db.password, target_session_attrs: sessionAttrs(s),
    },
    tables: p.tables.map((t) => ({ table: t.table, text_column: t.text_column, vector_column: t.vector_column, ...(t.id_column !== undefined ? { id_column: t.id_column } : {}) })),
    embedding_llm: llm(p, 'embedding', p.embedding_llm),
    rag_llm: llm(p, 'rag', p.rag_llm),
    api_keys: Object.fromEntries((['embedding', 'rag'] as const)
      .filter((w) => keys[`${p.name}-${w}.key`] !== undefined)
      .map((w) => [w === 'embedding' ? 'embedding_llm' : 'rag_llm', `${ragKeysDir}/${p.name}-${w}.key`])),
    token_budget: p.token_budget ?? defaults.token_budget ?? 4000,
    top_n: p.top_n ?? defaults.top_n ?? 10,
    ...(p.system_prompt !== undefined ? { system_prompt: p.system_prompt } : {}),
    search: { hybrid_enabled: p.search?.hybrid_enabled ?? true, vector_weight: p.search?.vector_weight ?? 0.5 },
  }));
  const text = `${JSON.stringify({ server: { listen_address: '0.0.0.0', port: 8080 }, pipelines }, null, 2)}\n`;
  return { text, keys };
}

/** Pure: what is wrong with the tables a RAG service's pipelines name, given the columns found (`table` → column → type). */
export function ragTableProblems(s: ServiceSpec, found: Map<string, Map<string, string>>): string[] {
  const out: string[] = [];
  pipelinesOf(s).forEach((p, i) => p.tables.forEach((t, j) => {
    const at = `pipelines[${i}].tables[${j}]`;
    const cols = found.get(t.table);
    if (!cols) { out.push(`table "${t.table}" (${at}.table) does not exist`); return; }
    const column = (name: string | undefined, key: string, type?: string) => {
      if (name === undefined) return;
      const got = cols.get(name);
      if (got === undefined) out.push(`column "${name}" (${at}.${key}) does not exist in table "${t.table}"`);
      else if (type && got !== type) out.push(`column "${name}" (${at}.${key}) of table "${t.table}" is ${got}, not ${type}`);
    };
    column(t.text_column, 'text_column');
    column(t.vector_column, 'vector_column', 'vector');
    column(t.id_column, 'id_column');
  }));
  return out;
}

export function ragActivities(deps: HostDeps) {
  return {
    /** connect_as and every pipeline table (with its columns; the vector column of type vector) on the first node. */
    async ragPreflight({ databaseId, serviceId, nodeName }: { databaseId: string; serviceId: string; nodeName: string }): Promise<void> {
      const db = await loadDatabase(deps.store, databaseId);
      const s = db.spec.services?.find((x) => x.service_id === serviceId && x.service_type === 'rag');
      if (!s) throw permanent(FailureType.notFound, `RAG service ${serviceId} is not in the spec of ${databaseId}`);
      const primary = await resolvePrimary(deps, db, nodeName);
      const problems = await withClient(primary.address, db.secrets, db.spec.database_name, async (c) => {
        const out: string[] = [];
        const role = await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [s.connect_as]);
        if (role.rowCount === 0) out.push(`connect_as role "${s.connect_as}" does not exist`);
        const tables = [...new Set(pipelinesOf(s).flatMap((p) => p.tables.map((t) => t.table)))];
        const found = new Map<string, Map<string, string>>();
        for (const table of tables) {
          // to_regclass: a name as SQL reads it (schema-qualified or on the search path), null when absent; one row
          // with null columns for a table without columns, none for a missing table
          const { rows } = await c.query<{ attname: string | null; type: string | null }>(
            `SELECT a.attname, format_type(a.atttypid, NULL) AS type
               FROM (SELECT to_regclass($1) AS oid) t
               LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
              WHERE t.oid IS NOT NULL`, [table]);
          if (rows.length) found.set(table, new Map(rows.flatMap((r) => (r.attname && r.type ? [[r.attname, r.type] as [string, string]] : []))));
        }
        return [...out, ...ragTableProblems(s, found)];
      });
      if (problems.length) throw permanent(FailureType.invalidSpec, `RAG service ${serviceId} preflight failed on node ${nodeName}: ${problems.join('; ')}`);
    },
  };
}
