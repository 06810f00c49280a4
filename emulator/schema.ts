// Request bodies are checked against the Compute v1 messages shipped with @google-cloud/compute
// (protos.json), so an unknown or mistyped field is a 400 exactly where GCE would refuse it.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { invalid } from './http/errors.ts';

interface ProtoField {
  type: string;
  rule?: string;
  keyType?: string;
}
interface ProtoType {
  fields?: Record<string, ProtoField>;
  values?: Record<string, number>;
  nested?: Record<string, ProtoType>;
}

let v1: Record<string, ProtoType> | undefined;

// Messages the shipped protos lack: @google-cloud/compute 7 dropped the legacy HttpHealthChecks
// service, but GCE still serves it (fields from the Compute v1 REST reference), and body-less POSTs.
const SUPPLEMENT: Record<string, ProtoType> = {
  HttpHealthCheck: {
    fields: Object.fromEntries(
      [
        ['checkIntervalSec', 'int32'],
        ['creationTimestamp', 'string'],
        ['description', 'string'],
        ['healthyThreshold', 'int32'],
        ['host', 'string'],
        ['id', 'uint64'],
        ['kind', 'string'],
        ['name', 'string'],
        ['port', 'int32'],
        ['requestPath', 'string'],
        ['selfLink', 'string'],
        ['timeoutSec', 'int32'],
        ['unhealthyThreshold', 'int32'],
      ].map(([name, type]) => [name, { type } as ProtoField]),
    ),
  },
  Empty: { fields: {} },
};

function messages(): Record<string, ProtoType> {
  if (!v1) {
    const require = createRequire(import.meta.url);
    const pkgDir = dirname(require.resolve('@google-cloud/compute/package.json'));
    const root = JSON.parse(readFileSync(join(pkgDir, 'build', 'protos', 'protos.json'), 'utf8'));
    v1 = { ...SUPPLEMENT, ...(root.nested.google.nested.cloud.nested.compute.nested.v1.nested as Record<string, ProtoType>) };
  }
  return v1;
}

const INT_TYPES = new Set(['int32', 'uint32', 'int64', 'uint64', 'sint32', 'sint64', 'fixed32', 'fixed64']);

function resolve(typeName: string, scope: ProtoType | undefined): ProtoType | undefined {
  return scope?.nested?.[typeName] ?? messages()[typeName];
}

function describe(where: string): string {
  return where || 'resource';
}

function checkScalar(type: string, value: unknown, where: string, scope: ProtoType | undefined): void {
  const bad = (): never => {
    throw invalid(`Invalid value at '${describe(where)}' (${type}), ${JSON.stringify(value)}`);
  };
  if (value === null) return;
  if (type === 'string') {
    if (typeof value !== 'string') bad();
    return;
  }
  if (type === 'bool') {
    if (typeof value !== 'boolean') bad();
    return;
  }
  if (INT_TYPES.has(type)) {
    if (typeof value === 'number' ? !Number.isInteger(value) : !(typeof value === 'string' && /^-?\d+$/.test(value))) bad();
    return;
  }
  if (type === 'double' || type === 'float') {
    if (typeof value !== 'number' && !(typeof value === 'string' && value !== '' && !Number.isNaN(Number(value)))) bad();
    return;
  }
  if (type === 'google.protobuf.Any') return;
  const t = resolve(type, scope);
  if (t?.values) {
    if (typeof value !== 'string' && typeof value !== 'number') bad();
    return;
  }
  if (t?.fields) {
    checkMessage(t, value, where);
    return;
  }
}

function checkMessage(message: ProtoType, value: unknown, where: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(`Invalid JSON payload received. Expected an object at '${describe(where)}'.`);
  }
  for (const [key, fieldValue] of Object.entries(value)) {
    const field = message.fields?.[key];
    if (!field) {
      throw invalid(`Invalid JSON payload received. Unknown name "${key}" at '${describe(where)}': Cannot find field.`);
    }
    const at = where ? `${where}.${key}` : key;
    if (field.keyType) {
      if (typeof fieldValue !== 'object' || fieldValue === null || Array.isArray(fieldValue)) {
        throw invalid(`Invalid JSON payload received. Expected a map at '${at}'.`);
      }
      for (const [k, v] of Object.entries(fieldValue)) checkScalar(field.type, v, `${at}[${JSON.stringify(k)}]`, message);
    } else if (field.rule === 'repeated') {
      if (fieldValue === null) continue;
      if (!Array.isArray(fieldValue)) throw invalid(`Invalid JSON payload received. Expected a list at '${at}'.`);
      fieldValue.forEach((v, i) => checkScalar(field.type, v, `${at}[${i}]`, message));
    } else {
      checkScalar(field.type, fieldValue, at, message);
    }
  }
}

/** Throws a 400 `invalid` ApiError unless `body` is a valid JSON form of the v1 message `messageName`. */
export function validateBody(messageName: string, body: unknown): void {
  const message = messages()[messageName];
  if (!message?.fields) throw new Error(`emulator bug: no Compute v1 message ${messageName}`);
  checkMessage(message, body, '');
}
