/**
 * Form drafts of the built-in bots' admin data and their conversion to the
 * documented JSON (docs/api.md "Built-in bots: admin data"). Pure functions,
 * so the panels stay thin and the conversions are tested on their own.
 */
import type { RunbookAction, RunbookParam } from './api';

export interface ParamDraft {
  key: number;
  name: string;
  type: 'str' | 'int' | 'choice';
  choices: string;
  pattern: string;
  min: string;
  max: string;
  required: boolean;
  default: string;
}

export interface RunbookDraft {
  name: string;
  description: string;
  /** One argv element a line (an element may hold spaces: no shell splits it). */
  argv: string;
  params: ParamDraft[];
  cwd: string;
  /** NAME=value, one a line. */
  env: string;
  timeout: string;
  /** Principals, separated by commas or spaces. */
  runPolicy: string;
  needsApproval: boolean;
  enabled: boolean;
}

let nextKey = 1;

export function emptyParam(): ParamDraft {
  return { key: nextKey++, name: '', type: 'str', choices: '', pattern: '', min: '', max: '', required: true, default: '' };
}

export function emptyRunbook(): RunbookDraft {
  return {
    name: '',
    description: '',
    argv: '',
    params: [],
    cwd: '',
    env: '',
    timeout: '60',
    runPolicy: 'room:member',
    needsApproval: false,
    enabled: true,
  };
}

export function runbookDraft(a: RunbookAction): RunbookDraft {
  return {
    name: a.name,
    description: a.description ?? '',
    argv: (a.argv ?? []).join('\n'),
    params: Object.entries(a.params ?? {}).map(([name, p]) => ({
      key: nextKey++,
      name,
      type: p.type ?? 'str',
      choices: (p.choices ?? []).join(', '),
      pattern: p.pattern ?? '',
      min: p.min == null ? '' : String(p.min),
      max: p.max == null ? '' : String(p.max),
      required: p.required ?? true,
      default: p.default == null ? '' : String(p.default),
    })),
    cwd: a.cwd ?? '',
    env: Object.entries(a.env ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
    timeout: String(a.timeout_seconds ?? 60),
    runPolicy: (a.run_policy ?? []).join(', '),
    needsApproval: !!a.needs_approval,
    enabled: a.enabled !== false,
  };
}

export class DraftError extends Error {
  constructor(readonly fields: Record<string, string>) {
    super(Object.values(fields).join(' '));
  }
}

function whole(value: string, what: string): number | undefined {
  const v = value.trim();
  if (!v) return undefined;
  if (!/^-?\d+$/.test(v)) throw new DraftError({ params: `${what} must be a whole number.` });
  return Number(v);
}

/** The draft as the API's JSON; a DraftError names the field that cannot be converted. */
export function runbookPayload(d: RunbookDraft): Record<string, unknown> {
  const argv = d.argv.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const params: Record<string, RunbookParam> = {};
  for (const p of d.params) {
    const name = p.name.trim();
    if (!name) throw new DraftError({ params: 'Every parameter needs a name.' });
    if (name in params) throw new DraftError({ params: `Parameter ${name} is declared twice.` });
    const spec: RunbookParam = { type: p.type, required: p.required };
    if (p.type === 'choice') {
      spec.choices = p.choices.split(/[\s,]+/).filter(Boolean);
    } else if (p.type === 'int') {
      const min = whole(p.min, `${name}: min`);
      const max = whole(p.max, `${name}: max`);
      if (min !== undefined) spec.min = min;
      if (max !== undefined) spec.max = max;
    } else if (p.pattern.trim()) {
      spec.pattern = p.pattern.trim();
    }
    if (p.default.trim()) {
      spec.default = p.type === 'int' ? (whole(p.default, `${name}: default`) as number) : p.default.trim();
    }
    params[name] = spec;
  }
  const env: Record<string, string> = {};
  for (const line of d.env.split('\n')) {
    if (!line.trim()) continue;
    const at = line.indexOf('=');
    if (at < 1) throw new DraftError({ env: `Write NAME=value, one a line (not "${line.trim()}").` });
    env[line.slice(0, at).trim()] = line.slice(at + 1);
  }
  const timeout = d.timeout.trim();
  if (!/^\d+$/.test(timeout)) throw new DraftError({ timeout_seconds: 'A whole number of seconds, 1-3600.' });
  return {
    name: d.name.trim(),
    description: d.description.trim(),
    argv,
    params,
    cwd: d.cwd.trim(),
    env,
    timeout_seconds: Number(timeout),
    run_policy: d.runPolicy.split(/[\s,]+/).filter(Boolean),
    needs_approval: d.needsApproval,
    enabled: d.enabled,
  };
}
