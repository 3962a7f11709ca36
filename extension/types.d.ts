// Globals the classic scripts define (settings.js, messages.js) as the modules see them.
declare var CtiSettings: {
  DEFAULTS: Readonly<Record<string, any>>;
  clean(key: string, value: unknown): any;
  load(): Promise<{ values: Record<string, any>; managedKeys: string[] }>;
  loadManaged(): Promise<Record<string, any>>;
  combine(local: Record<string, any>, managed: Record<string, any>): { values: Record<string, any>; managedKeys: string[] };
  origin(s: unknown): string | undefined;
};
