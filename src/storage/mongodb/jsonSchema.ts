/**
 * An evaluator for the subset of MongoDB's `$jsonSchema` that our collection validators use.
 *
 * Why it exists: the embedded engine (FerretDB v1) answers `NotImplemented` to collection
 * validators, so the same schema that real MongoDB enforces is also checked here, in process,
 * before every write. One schema, two enforcers; on MongoDB both apply.
 */
import { Binary, Decimal128, Double, Int32, Long, ObjectId } from 'mongodb';
import { LedgerError } from '../../errors';

export type BsonType =
  | 'object'
  | 'array'
  | 'string'
  | 'int'
  | 'long'
  | 'double'
  | 'decimal'
  | 'number'
  | 'bool'
  | 'date'
  | 'binData'
  | 'objectId'
  | 'null';

export interface JsonSchema {
  readonly bsonType?: BsonType | readonly BsonType[];
  readonly required?: readonly string[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly additionalProperties?: boolean;
  readonly enum?: readonly unknown[];
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly items?: JsonSchema;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly description?: string;
}

/**
 * A document the schema refuses. A LedgerError (BAD_INPUT) so that it never reaches a caller
 * of the port as a driver-shaped failure; the event repository wraps it in EventRejectedError.
 */
export class DocumentValidationError extends LedgerError {
  override name = 'DocumentValidationError';
  constructor(
    readonly collection: string,
    readonly problems: readonly string[],
  ) {
    super('BAD_INPUT', `document failed validation for ${collection}: ${problems.join('; ')}`);
  }
}

/** Returns the list of problems (empty when the value conforms). */
export function schemaProblems(schema: JsonSchema, value: unknown, at = '$'): string[] {
  const problems: string[] = [];
  if (schema.bsonType !== undefined) {
    const allowed = typeof schema.bsonType === 'string' ? [schema.bsonType] : schema.bsonType;
    if (!allowed.some((t) => hasBsonType(value, t))) {
      problems.push(`${at} must be ${allowed.join(' or ')}`);
      return problems;
    }
  }
  if (schema.enum && !schema.enum.some((e) => e === value)) problems.push(`${at} must be one of ${schema.enum.join(', ')}`);
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && [...value].length < schema.minLength) problems.push(`${at} is too short`);
    if (schema.maxLength !== undefined && [...value].length > schema.maxLength) problems.push(`${at} is too long`);
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) {
      problems.push(`${at} does not match ${schema.pattern}`);
    }
  }
  const n = numeric(value);
  if (n !== undefined) {
    if (schema.minimum !== undefined && n < schema.minimum) problems.push(`${at} must be >= ${schema.minimum}`);
    if (schema.maximum !== undefined && n > schema.maximum) problems.push(`${at} must be <= ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) problems.push(`${at} has too few items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) problems.push(`${at} has too many items`);
    if (schema.items) value.forEach((item, i) => problems.push(...schemaProblems(schema.items!, item, `${at}[${i}]`)));
  }
  if (isPlainObject(value)) {
    const record = value as Record<string, unknown>;
    for (const key of schema.required ?? []) if (record[key] === undefined) problems.push(`${at}.${key} is required`);
    for (const [key, child] of Object.entries(schema.properties ?? {})) {
      if (record[key] !== undefined) problems.push(...schemaProblems(child, record[key], `${at}.${key}`));
    }
    if (schema.additionalProperties === false) {
      for (const key of Object.keys(record)) {
        if (!(key in (schema.properties ?? {})) && record[key] !== undefined) problems.push(`${at}.${key} is not allowed`);
      }
    }
  }
  return problems;
}

export function assertMatchesSchema(collection: string, schema: JsonSchema, doc: unknown): void {
  const problems = schemaProblems(schema, doc);
  if (problems.length > 0) throw new DocumentValidationError(collection, problems);
}

/** Checks the fields an update `$set`s against their property schemas (an update holds no whole document). */
export function assertFieldsMatchSchema(collection: string, schema: JsonSchema, fields: Readonly<Record<string, unknown>>): void {
  const problems = Object.entries(fields).flatMap(([key, value]) => {
    const property = schema.properties?.[key];
    if (property) return value === undefined ? [] : schemaProblems(property, value, `$.${key}`);
    return schema.additionalProperties === false ? [`$.${key} is not allowed`] : [];
  });
  if (problems.length > 0) throw new DocumentValidationError(collection, problems);
}

function isPlainObject(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function numeric(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (value instanceof Int32 || value instanceof Double) return value.valueOf();
  if (value instanceof Long) return value.toNumber();
  return undefined;
}

function hasBsonType(value: unknown, type: BsonType): boolean {
  switch (type) {
    case 'object':
      return isPlainObject(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'int':
      return value instanceof Int32 || (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) < 2 ** 31);
    case 'long':
      return value instanceof Long || (typeof value === 'number' && Number.isSafeInteger(value));
    case 'double':
      return value instanceof Double || typeof value === 'number';
    case 'decimal':
      return value instanceof Decimal128;
    case 'number':
      return numeric(value) !== undefined || value instanceof Decimal128;
    case 'bool':
      return typeof value === 'boolean';
    case 'date':
      return value instanceof Date;
    case 'binData':
      return value instanceof Binary || value instanceof Uint8Array;
    case 'objectId':
      return value instanceof ObjectId;
    case 'null':
      return value === null;
  }
}
