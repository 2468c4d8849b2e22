// A tiny evaluator for the subset of CEL used by infra/kubernetes policies, so
// tests can run the ValidatingAdmissionPolicy logic against sample objects.
//
// It is NOT a CEL implementation: no type checker, no macros except has(), no
// timestamps or regexes. Anything outside the subset throws
// `CelUnsupportedError`, so an expression that grows beyond it fails the test
// loudly instead of being evaluated wrongly. It follows CEL semantics where the
// policies depend on them:
// - selecting a missing field is an error, and has() tests presence;
// - `&&` and `||` absorb an error when the other side decides the result;
// - the ternary operator requires a bool condition.

export class CelUnsupportedError extends Error {}
export class CelEvalError extends Error {}

type Node =
  | { t: 'lit'; v: unknown }
  | { t: 'ident'; name: string }
  | { t: 'select'; operand: Node; field: string }
  | { t: 'index'; operand: Node; index: Node }
  | { t: 'call'; fn: string; target?: Node; args: Node[] }
  | { t: 'list'; items: Node[] }
  | { t: 'not'; operand: Node }
  | { t: 'bin'; op: string; left: Node; right: Node }
  | { t: 'cond'; test: Node; then: Node; else: Node };

interface Token {
  kind: 'str' | 'num' | 'ident' | 'op' | 'end';
  text: string;
  value?: unknown;
}

const OPERATORS = ['==', '!=', '&&', '||', '<=', '>=', '<', '>', '!', '?', ':', '(', ')', '[', ']', '.', ',', '+'];

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src.charAt(i);
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      let out = '';
      while (j < src.length && src.charAt(j) !== c) {
        if (src.charAt(j) === '\\') {
          const esc = src.charAt(j + 1);
          out += esc === 'n' ? '\n' : esc === 't' ? '\t' : esc;
          j += 2;
        } else {
          out += src.charAt(j++);
        }
      }
      if (j >= src.length) throw new CelEvalError(`unterminated string at ${i}`);
      tokens.push({ kind: 'str', text: src.slice(i, j + 1), value: out });
      i = j + 1;
      continue;
    }
    const num = /^\d+(\.\d+)?/.exec(src.slice(i));
    if (num) {
      tokens.push({ kind: 'num', text: num[0], value: Number(num[0]) });
      i += num[0].length;
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (ident) {
      tokens.push({ kind: 'ident', text: ident[0] });
      i += ident[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (!op) throw new CelUnsupportedError(`unsupported character ${JSON.stringify(c)} at ${i}`);
    tokens.push({ kind: 'op', text: op });
    i += op.length;
  }
  tokens.push({ kind: 'end', text: '<end>' });
  return tokens;
}

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.pos] ?? { kind: 'end', text: '<end>' };
  }
  private next(): Token {
    const token = this.peek();
    this.pos++;
    return token;
  }
  private accept(text: string): boolean {
    const token = this.peek();
    if ((token.kind === 'op' || token.kind === 'ident') && token.text === text) {
      this.pos++;
      return true;
    }
    return false;
  }
  private expect(text: string): void {
    if (!this.accept(text)) throw new CelEvalError(`expected '${text}', got '${this.peek().text}'`);
  }

  parseAll(): Node {
    const node = this.expr();
    if (this.peek().kind !== 'end') throw new CelEvalError(`unexpected '${this.peek().text}'`);
    return node;
  }

  private expr(): Node {
    const test = this.or();
    if (!this.accept('?')) return test;
    const then = this.or();
    this.expect(':');
    return { t: 'cond', test, then, else: this.expr() };
  }
  private or(): Node {
    let left = this.and();
    while (this.accept('||')) left = { t: 'bin', op: '||', left, right: this.and() };
    return left;
  }
  private and(): Node {
    let left = this.relation();
    while (this.accept('&&')) left = { t: 'bin', op: '&&', left, right: this.relation() };
    return left;
  }
  private relation(): Node {
    let left = this.addition();
    for (;;) {
      const op = ['==', '!=', '<', '<=', '>', '>=', 'in'].find((o) => this.accept(o));
      if (!op) return left;
      left = { t: 'bin', op, left, right: this.addition() };
    }
  }
  private addition(): Node {
    let left = this.unary();
    while (this.accept('+')) left = { t: 'bin', op: '+', left, right: this.unary() };
    return left;
  }
  private unary(): Node {
    if (this.accept('!')) return { t: 'not', operand: this.unary() };
    return this.member();
  }
  private member(): Node {
    let node = this.primary();
    for (;;) {
      if (this.accept('.')) {
        const name = this.next();
        if (name.kind !== 'ident') throw new CelEvalError(`expected a field name, got '${name.text}'`);
        node = this.accept('(')
          ? { t: 'call', fn: name.text, target: node, args: this.args(')') }
          : { t: 'select', operand: node, field: name.text };
      } else if (this.accept('[')) {
        const index = this.expr();
        this.expect(']');
        node = { t: 'index', operand: node, index };
      } else {
        return node;
      }
    }
  }
  private args(close: string): Node[] {
    const args: Node[] = [];
    if (this.accept(close)) return args;
    do args.push(this.expr());
    while (this.accept(','));
    this.expect(close);
    return args;
  }
  private primary(): Node {
    const token = this.next();
    if (token.kind === 'str' || token.kind === 'num') return { t: 'lit', v: token.value };
    if (token.kind === 'ident') {
      if (token.text === 'true') return { t: 'lit', v: true };
      if (token.text === 'false') return { t: 'lit', v: false };
      if (token.text === 'null') return { t: 'lit', v: null };
      if (this.accept('(')) return { t: 'call', fn: token.text, args: this.args(')') };
      return { t: 'ident', name: token.text };
    }
    if (token.text === '(') {
      const inner = this.expr();
      this.expect(')');
      return inner;
    }
    if (token.text === '[') return { t: 'list', items: this.args(']') };
    throw new CelUnsupportedError(`unsupported token '${token.text}'`);
  }
}

export function parseCel(src: string): Node {
  return new Parser(tokenize(src)).parseAll();
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function celEquals(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => celEquals(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => k in b && celEquals(a[k], b[k]));
  }
  return a === b;
}

function bool(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') throw new CelEvalError(`${what} must be bool, got ${JSON.stringify(v)}`);
  return v;
}

export type Activation = Record<string, unknown>;

function evaluate(node: Node, env: Activation): unknown {
  switch (node.t) {
    case 'lit':
      return node.v;
    case 'ident':
      if (!(node.name in env)) throw new CelEvalError(`undeclared reference to '${node.name}'`);
      return env[node.name];
    case 'list':
      return node.items.map((item) => evaluate(item, env));
    case 'select': {
      const operand = evaluate(node.operand, env);
      if (!isObject(operand)) throw new CelEvalError(`cannot select '${node.field}' from ${JSON.stringify(operand)}`);
      if (!Object.hasOwn(operand, node.field)) throw new CelEvalError(`no such key: ${node.field}`);
      return operand[node.field];
    }
    case 'index': {
      const operand = evaluate(node.operand, env);
      const index = evaluate(node.index, env);
      if (Array.isArray(operand) && typeof index === 'number' && index in operand) return operand[index];
      if (isObject(operand) && typeof index === 'string' && Object.hasOwn(operand, index)) return operand[index];
      throw new CelEvalError(`invalid index ${JSON.stringify(index)}`);
    }
    case 'not':
      return !bool(evaluate(node.operand, env), 'operand of !');
    case 'cond':
      return bool(evaluate(node.test, env), 'ternary condition') ? evaluate(node.then, env) : evaluate(node.else, env);
    case 'bin':
      return evaluateBinary(node.op, node.left, node.right, env);
    case 'call':
      return evaluateCall(node, env);
  }
}

function evaluateBinary(op: string, leftNode: Node, rightNode: Node, env: Activation): unknown {
  if (op === '&&' || op === '||') {
    const decisive = op === '||';
    let left: boolean | undefined;
    let leftError: unknown;
    try {
      left = bool(evaluate(leftNode, env), `left of ${op}`);
    } catch (error) {
      leftError = error;
    }
    if (left === decisive) return decisive;
    const right = bool(evaluate(rightNode, env), `right of ${op}`);
    if (right === decisive) return decisive;
    if (leftError !== undefined) throw leftError;
    return right;
  }
  const left = evaluate(leftNode, env);
  const right = evaluate(rightNode, env);
  switch (op) {
    case '==':
      return celEquals(left, right);
    case '!=':
      return !celEquals(left, right);
    case 'in':
      if (Array.isArray(right)) return right.some((item) => celEquals(item, left));
      if (isObject(right) && typeof left === 'string') return Object.hasOwn(right, left);
      throw new CelEvalError(`'in' needs a list or map, got ${JSON.stringify(right)}`);
    case '+':
      if (typeof left === 'string' && typeof right === 'string') return left + right;
      if (typeof left === 'number' && typeof right === 'number') return left + right;
      if (Array.isArray(left) && Array.isArray(right)) return [...left, ...right];
      throw new CelEvalError(`no matching overload for ${JSON.stringify(left)} + ${JSON.stringify(right)}`);
    default:
      throw new CelUnsupportedError(`unsupported operator ${op}`);
  }
}

function evaluateCall(node: Extract<Node, { t: 'call' }>, env: Activation): unknown {
  if (node.fn === 'has' && !node.target) {
    const arg = node.args[0];
    if (node.args.length !== 1 || arg?.t !== 'select') throw new CelEvalError('has() needs a field selection');
    const operand = evaluate(arg.operand, env);
    if (!isObject(operand)) throw new CelEvalError(`has() on ${JSON.stringify(operand)}`);
    return Object.hasOwn(operand, arg.field);
  }
  // Checked before evaluating arguments: macros such as exists() bind their
  // own variables, which would otherwise surface as a misleading eval error.
  const supported = node.target ? ['join'] : ['size'];
  if (!supported.includes(node.fn)) throw new CelUnsupportedError(`unsupported function ${node.fn}()`);
  const target = node.target ? evaluate(node.target, env) : undefined;
  const args = node.args.map((a) => evaluate(a, env));
  if (node.fn === 'join' && Array.isArray(target)) {
    if (!target.every((x) => typeof x === 'string')) throw new CelEvalError('join() needs a list of strings');
    return target.join(typeof args[0] === 'string' ? args[0] : '');
  }
  if (node.fn === 'size' && !node.target && args.length === 1) {
    const [value] = args;
    if (typeof value === 'string' || Array.isArray(value)) return value.length;
    if (isObject(value)) return Object.keys(value).length;
  }
  throw new CelUnsupportedError(`unsupported function ${node.fn}()`);
}

/** Evaluates `src` against `env`. Parse/eval errors throw. */
export function evalCel(src: string, env: Activation): unknown {
  return evaluate(parseCel(src), env);
}

/**
 * Builds the `variables` object of a ValidatingAdmissionPolicy: each variable
 * is evaluated lazily on first use, like the API server does, so a variable
 * that would error only matters if an expression actually reads it.
 */
export function withPolicyVariables(variables: ReadonlyArray<{ name: string; expression: string }>, env: Activation): Activation {
  const vars: Record<string, unknown> = {};
  const full: Activation = { ...env, variables: vars };
  for (const { name, expression } of variables) {
    let cached: { value: unknown } | undefined;
    Object.defineProperty(vars, name, {
      enumerable: true,
      get: () => {
        cached ??= { value: evalCel(expression, full) };
        return cached.value;
      },
    });
  }
  return full;
}
