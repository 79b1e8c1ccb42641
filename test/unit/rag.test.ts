import { describe, expect, it } from 'vitest';
import type { DatabaseSpec, ServiceSpec } from '../../api/schemas/database-spec.js';
import { ragConfig, ragTableProblems } from '../../activities/services/rag.js';
import { serviceWaves } from '../../workflows/model/planner.js';

const rag: ServiceSpec = {
  service_id: 'rag', service_type: 'rag', version: '1.0.0', host_ids: ['host-1'], connect_as: 'app',
  config: {
    defaults: { top_n: 5 },
    pipelines: [{
      name: 'docs', tables: [{ table: 'public.docs', text_column: 'body', vector_column: 'embedding', id_column: 'id' }],
      embedding_llm: { provider: 'openai', model: 'text-embedding-3-small', api_key: 'sk-embed-canary' },
      rag_llm: { provider: 'ollama', model: 'llama3', base_url: 'http://ollama:11434' },
    }],
  },
} as ServiceSpec;

describe('ragConfig', () => {
  it('names each key by its file, never in the config text; fills the defaults', () => {
    const { text, keys } = ragConfig(rag, { dbname: 'app', user: 'app', password: 'pw', hosts: [{ host: '10.0.0.1', port: 5432 }] });
    expect(text).not.toContain('sk-embed-canary');
    expect(keys).toEqual({ 'docs-embedding.key': 'sk-embed-canary' });
    const config = JSON.parse(text);
    expect(config.pipelines[0]).toMatchObject({
      name: 'docs', api_keys: { embedding_llm: '/app/keys/docs-embedding.key' }, top_n: 5, token_budget: 4000,
      database: { hosts: [{ host: '10.0.0.1', port: 5432 }], target_session_attrs: 'prefer-standby' },
      search: { hybrid_enabled: true, vector_weight: 0.5 }, rag_llm: { provider: 'ollama', base_url: 'http://ollama:11434' },
    });
    expect(config.pipelines[0].api_keys.rag_llm).toBeUndefined();
  });
});

describe('ragTableProblems', () => {
  it('names the missing table, the missing column and a vector column of another type by their spec path', () => {
    expect(ragTableProblems(rag, new Map())).toEqual(['table "public.docs" (pipelines[0].tables[0].table) does not exist']);
    expect(ragTableProblems(rag, new Map([['public.docs', new Map([['id', 'integer'], ['body', 'text'], ['embedding', 'text']])]])))
      .toEqual(['column "embedding" (pipelines[0].tables[0].vector_column) of table "public.docs" is text, not vector']);
    expect(ragTableProblems(rag, new Map([['public.docs', new Map([['body', 'text'], ['embedding', 'vector']])]])))
      .toEqual(['column "id" (pipelines[0].tables[0].id_column) does not exist in table "public.docs"']);
    expect(ragTableProblems(rag, new Map([['public.docs', new Map([['id', 'bigint'], ['body', 'text'], ['embedding', 'vector']])]]))).toEqual([]);
  });
});

describe('serviceWaves', () => {
  it('checks a RAG service\'s tables on the first node before its containers', () => {
    const spec = { database_name: 'app', nodes: [{ name: 'n1', host_ids: ['host-1'] }], database_users: [], services: [rag] } as unknown as DatabaseSpec;
    const waves = serviceWaves('db', spec, []);
    const pre = waves.findIndex((w) => w.some((s) => s.kind === 'ragPreflight'));
    const make = waves.findIndex((w) => w.some((s) => s.kind === 'service'));
    expect(pre).toBeGreaterThanOrEqual(0);
    expect(pre).toBeLessThan(make);
    expect(waves[pre]).toEqual([{ kind: 'ragPreflight', hostId: 'host-1', serviceId: 'rag', nodeName: 'n1' }]);
  });
});
