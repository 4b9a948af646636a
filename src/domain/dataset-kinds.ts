/**
 * The kinds of private dataset a shared engine can give an environment. Apart from the rest of
 * datasets.ts (which needs node:crypto) because every state read checks them.
 */
export const ENGINE_KINDS = ['postgres', 'mariadb', 'mysql', 'redis', 'valkey'] as const;
export type EngineKind = (typeof ENGINE_KINDS)[number];
export const ISOLATION_KINDS = ['database', 'db-index'] as const;
export type IsolationKind = (typeof ISOLATION_KINDS)[number];
