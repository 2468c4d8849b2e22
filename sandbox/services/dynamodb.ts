// DynamoDB (JSON 1.0, `X-Amz-Target: DynamoDB_20120810.<Op>`): the tables and item operations that
// Powertools Idempotency's DynamoDB persistence layer uses, with the expression grammar it sends:
// conditions (comparisons, AND/OR/NOT, parentheses, attribute_exists/attribute_not_exists/begins_with)
// and `SET`/`REMOVE` updates. Anything else fails loudly with a ValidationException, as AWS would.
import { AwsError } from '../errors.js';
import type { Ctx } from '../runtime.js';
import { batchWrite, query, type IndexDef } from './dynamodb-query.js';

type AttributeValue = {
  S?: string;
  N?: string;
  B?: string;
  BOOL?: boolean;
  NULL?: boolean;
  M?: Item;
  L?: AttributeValue[];
  SS?: string[];
  NS?: string[];
};
export type Item = Record<string, AttributeValue>;
type Names = Record<string, string>;
type Values = Record<string, AttributeValue>;

export interface Table {
  name: string;
  arn: string;
  id: string;
  created: Date;
  keySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
  attributeDefinitions: { AttributeName: string; AttributeType: string }[];
  billingMode: string;
  items: Map<string, Item>;
  /** GlobalSecondaryIndexes (Query with IndexName reads them; projection is always ALL here). */
  indexes: IndexDef[];
}

const MAX_ITEM_BYTES = 400 * 1024;
const validation = (m: string) => new AwsError('ValidationException', m);

export class DynamoDb {
  private tables = new Map<string, Table>();

  reset(): void {
    this.tables.clear();
  }

  /** Raw items of a table (AttributeValue maps), for assertions. */
  items(table: string, region: string): Item[] {
    return [...(this.tables.get(`${region}/${table}`)?.items.values() ?? [])].map((i) => structuredClone(i));
  }

  handle(ctx: Ctx, op: string, input: any): unknown {
    switch (op) {
      case 'CreateTable':
        return this.createTable(ctx, input);
      case 'DescribeTable':
        return { Table: describe(this.table(ctx, input.TableName)) };
      case 'GetItem': {
        const t = this.table(ctx, input.TableName);
        const item = t.items.get(keyOf(t, input.Key));
        return item ? { Item: project(item, input.ProjectionExpression, input.ExpressionAttributeNames) } : {};
      }
      case 'PutItem': {
        const t = this.table(ctx, input.TableName);
        const item: Item = input.Item ?? {};
        const k = keyOf(t, pick(item, t), 'item');
        checkSize(item);
        const old = this.check(t, k, input);
        t.items.set(k, structuredClone(item));
        return input.ReturnValues === 'ALL_OLD' && old ? { Attributes: old } : {};
      }
      case 'UpdateItem': {
        const t = this.table(ctx, input.TableName);
        const k = keyOf(t, input.Key);
        const old = this.check(t, k, input);
        const next = update(
          structuredClone(old ?? input.Key),
          input.UpdateExpression,
          input.ExpressionAttributeNames ?? {},
          input.ExpressionAttributeValues ?? {},
          t,
        );
        checkSize(next);
        t.items.set(k, next);
        if (input.ReturnValues === 'ALL_NEW') return { Attributes: next };
        return input.ReturnValues === 'ALL_OLD' && old ? { Attributes: old } : {};
      }
      case 'DeleteItem': {
        const t = this.table(ctx, input.TableName);
        const k = keyOf(t, input.Key);
        const old = this.check(t, k, input);
        t.items.delete(k);
        return input.ReturnValues === 'ALL_OLD' && old ? { Attributes: old } : {};
      }
      case 'Query':
        return query(
          this.table(ctx, input.TableName),
          input,
          (expr) => (item, names, values, used) => evaluate(parse(expr, 'KeyConditionExpression'), item, names, values, used),
        );
      case 'BatchWriteItem':
        return batchWrite(
          input,
          (name) => this.table(ctx, name),
          (t, item) => {
            checkSize(item);
            t.items.set(keyOf(t, pick(item, t), 'item'), structuredClone(item));
          },
        );
      default:
        throw new AwsError('UnknownOperationException', `DynamoDB operation ${op} is not implemented by the imds-guard sandbox`);
    }
  }

  private createTable(ctx: Ctx, input: any) {
    const name = String(input.TableName ?? '');
    if (!/^[A-Za-z0-9_.-]{3,255}$/.test(name))
      throw validation(`1 validation error detected: Value '${name}' at 'tableName' failed to satisfy constraint`);
    const id = `${ctx.region}/${name}`;
    if (this.tables.has(id)) throw new AwsError('ResourceInUseException', `Table already exists: ${name}`);
    const keySchema = input.KeySchema ?? [];
    const defs = input.AttributeDefinitions ?? [];
    const hash = keySchema.filter((k: any) => k.KeyType === 'HASH');
    if (
      hash.length !== 1 ||
      keySchema.length > 2 ||
      keySchema.some((k: any) => !defs.some((d: any) => d.AttributeName === k.AttributeName))
    ) {
      throw validation('One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions');
    }
    const t: Table = {
      name,
      arn: `arn:aws:dynamodb:${ctx.region}:${ctx.rt.state.accountId}:table/${name}`,
      id: ctx.rt.state.ids.uuid(),
      created: new Date(),
      keySchema,
      attributeDefinitions: defs,
      billingMode: input.BillingMode ?? 'PROVISIONED',
      items: new Map(),
      indexes: (input.GlobalSecondaryIndexes ?? []).map((g: any) => ({ name: String(g.IndexName), keySchema: g.KeySchema ?? [] })),
    };
    this.tables.set(id, t);
    return { TableDescription: describe(t) };
  }

  private table(ctx: Ctx, name: unknown): Table {
    const t = this.tables.get(`${ctx.region}/${String(name)}`);
    if (!t) throw new AwsError('ResourceNotFoundException', 'Requested resource not found');
    return t;
  }

  /** Evaluates ConditionExpression against the current item; returns that item (the "old" one). */
  private check(t: Table, k: string, input: any): Item | undefined {
    const old = t.items.get(k);
    const names: Names = input.ExpressionAttributeNames ?? {};
    const values: Values = input.ExpressionAttributeValues ?? {};
    const used = new Set<string>();
    const ok =
      input.ConditionExpression === undefined ||
      evaluate(parse(input.ConditionExpression, 'ConditionExpression'), old ?? {}, names, values, used);
    if (input.UpdateExpression) collectRefs(input.UpdateExpression, used);
    if (input.ProjectionExpression) collectRefs(input.ProjectionExpression, used);
    const unusedNames = Object.keys(names).filter((n) => !used.has(n));
    const unusedValues = Object.keys(values).filter((v) => !used.has(v));
    if (unusedNames.length)
      throw validation(`Value provided in ExpressionAttributeNames unused in expressions: keys: {${unusedNames.join(', ')}}`);
    if (unusedValues.length)
      throw validation(`Value provided in ExpressionAttributeValues unused in expressions: keys: {${unusedValues.join(', ')}}`);
    if (!ok) {
      const withItem = input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && old;
      throw new AwsError('ConditionalCheckFailedException', 'The conditional request failed', 400, withItem ? { Item: old } : {});
    }
    return old && structuredClone(old);
  }
}

function describe(t: Table) {
  return {
    TableName: t.name,
    TableArn: t.arn,
    TableId: t.id,
    TableStatus: 'ACTIVE',
    CreationDateTime: t.created.getTime() / 1000,
    KeySchema: t.keySchema,
    AttributeDefinitions: t.attributeDefinitions,
    BillingModeSummary: { BillingMode: t.billingMode },
    ItemCount: t.items.size,
  };
}

function pick(item: Item, t: Table): Item {
  return Object.fromEntries(t.keySchema.filter((k) => item[k.AttributeName]).map((k) => [k.AttributeName, item[k.AttributeName]!]));
}

/** The key's attributes must be exactly the table's key schema, with the declared types. */
function keyOf(t: Table, key: Item | undefined, where: 'key' | 'item' = 'key'): string {
  const k = key ?? {};
  const parts = t.keySchema.map(({ AttributeName: name }) => {
    const type = t.attributeDefinitions.find((d) => d.AttributeName === name)?.AttributeType ?? 'S';
    const v = k[name];
    if (!v)
      throw validation(
        where === 'item'
          ? `One or more parameter values were invalid: Missing the key ${name} in the item`
          : 'The provided key element does not match the schema',
      );
    if (!(type in v))
      throw validation(
        `One or more parameter values were invalid: Type mismatch for key ${name} expected: ${type} actual: ${Object.keys(v)[0]}`,
      );
    return (v as Record<string, unknown>)[type];
  });
  if (where === 'key' && Object.keys(k).length !== t.keySchema.length)
    throw validation('The provided key element does not match the schema');
  return JSON.stringify(parts);
}

function checkSize(item: Item): void {
  if (Buffer.byteLength(JSON.stringify(item)) > MAX_ITEM_BYTES) throw validation('Item size has exceeded the maximum allowed size');
}

// --- expressions ---------------------------------------------------------------------------

type Operand = { ref: string };
type Node =
  | { op: 'or' | 'and'; a: Node; b: Node }
  | { op: 'not'; a: Node }
  | { op: 'cmp'; cmp: string; a: Operand; b: Operand }
  | { op: 'fn'; fn: string; args: Operand[] };

const TOKEN = /\s*(<>|<=|>=|=|<|>|\(|\)|,|[#:]?[A-Za-z_][A-Za-z0-9_]*)/y;
const FUNCTIONS = ['attribute_exists', 'attribute_not_exists', 'begins_with'];

function tokenize(expr: string, what: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < expr.length) {
    if (/^\s*$/.test(expr.slice(TOKEN.lastIndex))) break;
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(expr);
    if (!m) throw validation(`Invalid ${what}: Syntax error; token: "${expr.slice(at).trim().slice(0, 10)}"`);
    out.push(m[1]!);
  }
  return out;
}

function parse(expr: string, what: string): Node {
  const tokens = tokenize(expr, what);
  let i = 0;
  const peek = () => tokens[i];
  const kw = (w: string) => {
    if (peek()?.toUpperCase() !== w) return false;
    i++;
    return true;
  };
  const fail = (): never => {
    throw validation(
      `Invalid ${what}: Syntax error; token: "${peek() ?? '<EOF>'}" (the imds-guard sandbox supports comparisons, AND/OR/NOT and ${FUNCTIONS.join(', ')})`,
    );
  };
  const expect = (t: string) => (peek() === t ? i++ : fail());
  const operand = (): Operand => {
    const t = peek();
    if (!t || !/^[#:]?[A-Za-z_]/.test(t) || ['AND', 'OR', 'NOT'].includes(t.toUpperCase())) return fail();
    i++;
    return { ref: t };
  };
  const primary = (): Node => {
    if (kw('NOT')) return { op: 'not', a: primary() };
    if (peek() === '(') {
      i++;
      const n = or();
      expect(')');
      return n;
    }
    if (FUNCTIONS.includes(peek() ?? '') && tokens[i + 1] === '(') {
      const fn = tokens[i]!;
      i += 2;
      const args = [operand()];
      while (peek() === ',') {
        i++;
        args.push(operand());
      }
      expect(')');
      return { op: 'fn', fn, args };
    }
    const a = operand();
    const cmp = peek();
    if (!cmp || !['=', '<>', '<', '<=', '>', '>='].includes(cmp)) return fail();
    i++;
    return { op: 'cmp', cmp, a, b: operand() };
  };
  const and = (): Node => {
    let n = primary();
    while (kw('AND')) n = { op: 'and', a: n, b: primary() };
    return n;
  };
  const or = (): Node => {
    let n = and();
    while (kw('OR')) n = { op: 'or', a: n, b: and() };
    return n;
  };
  const n = or();
  if (i !== tokens.length) fail();
  return n;
}

function resolve(o: Operand, item: Item, names: Names, values: Values, used: Set<string>): AttributeValue | undefined {
  used.add(o.ref);
  if (o.ref.startsWith(':')) {
    const v = values[o.ref];
    if (!v)
      throw validation(`Invalid expression: An expression attribute value used in expression is not defined; attribute value: ${o.ref}`);
    return v;
  }
  return item[attrName(o.ref, names)];
}

function attrName(ref: string, names: Names): string {
  if (!ref.startsWith('#')) return ref;
  const n = names[ref];
  if (n === undefined)
    throw validation(`Invalid expression: An expression attribute name used in the document path is not defined; attribute name: ${ref}`);
  return n;
}

function scalar(v: AttributeValue | undefined): { type: string; value: string | number } | undefined {
  if (v?.S !== undefined) return { type: 'S', value: v.S };
  if (v?.N !== undefined) return { type: 'N', value: Number(v.N) };
  if (v?.B !== undefined) return { type: 'B', value: v.B };
  return undefined;
}

function evaluate(n: Node, item: Item, names: Names, values: Values, used: Set<string>): boolean {
  const ev = (x: Node) => evaluate(x, item, names, values, used);
  const val = (o: Operand) => resolve(o, item, names, values, used);
  switch (n.op) {
    case 'or': // Both sides are evaluated so every reference counts as used, as in AWS.
      return [ev(n.a), ev(n.b)].some(Boolean);
    case 'and':
      return [ev(n.a), ev(n.b)].every(Boolean);
    case 'not':
      return !ev(n.a);
    case 'fn': {
      const [a, b] = n.args.map(val);
      if (n.fn === 'attribute_exists') return a !== undefined;
      if (n.fn === 'attribute_not_exists') return a === undefined;
      return a?.S !== undefined && b?.S !== undefined && a.S.startsWith(b.S);
    }
    case 'cmp': {
      const [a, b] = [val(n.a), val(n.b)];
      if (n.cmp === '=') return a !== undefined && JSON.stringify(a) === JSON.stringify(b);
      if (n.cmp === '<>') return JSON.stringify(a) !== JSON.stringify(b);
      const [x, y] = [scalar(a), scalar(b)];
      if (!x || !y || x.type !== y.type) return false;
      return n.cmp === '<'
        ? x.value < y.value
        : n.cmp === '<='
          ? x.value <= y.value
          : n.cmp === '>'
            ? x.value > y.value
            : x.value >= y.value;
    }
  }
}

/** `SET a = :v, #b = :w REMOVE c`; key attributes cannot be updated. */
function update(item: Item, expr: string | undefined, names: Names, values: Values, t: Table): Item {
  if (!expr) return item;
  const tokens = tokenize(expr, 'UpdateExpression');
  const fail = (tok?: string): never => {
    throw validation(
      `Invalid UpdateExpression: Syntax error; token: "${tok ?? '<EOF>'}" (the imds-guard sandbox supports SET path = operand and REMOVE path)`,
    );
  };
  const target = (ref: string | undefined) => {
    if (!ref || !/^#?[A-Za-z_]/.test(ref)) return fail(ref);
    const name = attrName(ref, names);
    if (t.keySchema.some((k) => k.AttributeName === name))
      throw validation(`One or more parameter values were invalid: Cannot update attribute ${name}. This attribute is part of the key`);
    return name;
  };
  let i = 0;
  while (i < tokens.length) {
    const clause = tokens[i++]!.toUpperCase();
    if (clause !== 'SET' && clause !== 'REMOVE') fail(tokens[i - 1]);
    do {
      const name = target(tokens[i++]);
      if (clause === 'REMOVE') delete item[name];
      else {
        if (tokens[i++] !== '=') fail(tokens[i - 1]);
        const v = resolve({ ref: tokens[i++] ?? fail() }, item, names, values, new Set());
        if (v) item[name] = structuredClone(v);
        else throw validation('The provided expression refers to an attribute that does not exist in the item');
      }
    } while (tokens[i] === ',' && ++i);
  }
  return item;
}

function collectRefs(expr: string, used: Set<string>): void {
  for (const m of expr.matchAll(/[#:][A-Za-z_][A-Za-z0-9_]*/g)) used.add(m[0]);
}

function project(item: Item, expr: string | undefined, names: Names = {}): Item {
  if (!expr) return item;
  const keep = expr.split(',').map((p) => attrName(p.trim(), names));
  return Object.fromEntries(Object.entries(item).filter(([k]) => keep.includes(k)));
}
