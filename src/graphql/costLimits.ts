/**
 * Limits on what one GraphQL document may ask for, checked before any resolver runs: tokens
 * (while parsing), then aliases, depth, directives, a computed cost and how deeply lists of
 * objects nest (during validation). A refused document answers HTTP 400 with
 * `extensions.code: QUERY_TOO_COMPLEX` and the limit it broke in `extensions.limit`.
 *
 * Why each limit has the value it has (the legitimate extremes are pinned by a unit test that
 * runs every query our own clients send):
 * - tokens: a 10,000-event `recordEvents` written inline (not as variables) is about 540,000
 *   tokens; 1,000,000 leaves it ~1.85x headroom. Callers without a valid key get 10,000: the
 *   largest anonymous request we know (the auditor's 100 aliased inclusion proofs) is ~1,700.
 * - aliases: the auditor fetches 100 inclusion proofs per request as aliases; 128 allows it,
 *   and refuses the 20,000-alias bombs of the hardening issue.
 * - depth: our deepest query is 5 fields deep (`events { edges { node { actor { id } } } }`).
 * - list nesting: at most 2 object lists inside one another (`users { groups { id } }`): each
 *   nested list multiplies resolver calls (`users { groups { members { groups … } } }`).
 * - fields: 2,000 written fields; the auditor's 100 aliased proofs write 400. Many fields of
 *   one name cost GraphQL's overlapping-fields validation quadratic time.
 * - cost: graphql-armor's static cost (objects 2, scalars 1, x1.5 per level, times a literal
 *   `first`); our costliest legitimate document, a full page (`first: 500`) of events with
 *   every field, costs ~63,000; 100,000 leaves ~1.6x headroom.
 */
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  type ASTVisitor,
  type FieldNode,
  type FragmentDefinitionNode,
  getNamedType,
  getNullableType,
  GraphQLError,
  type GraphQLFormattedError,
  type GraphQLNamedType,
  isInterfaceType,
  isListType,
  isObjectType,
  isUnionType,
  Kind,
  Lexer,
  type SelectionSetNode,
  Source,
  TokenKind,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';

export const QUERY_TOO_COMPLEX = 'QUERY_TOO_COMPLEX';

export interface CostLimits {
  /** Tokens in a document sent with a valid API key. */
  readonly maxTokens: number;
  /** Tokens in a document sent without a valid API key. */
  readonly maxAnonymousTokens: number;
  readonly maxAliases: number;
  readonly maxDepth: number;
  readonly maxDirectives: number;
  readonly maxCost: number;
  readonly maxListNesting: number;
  /** Fields written in selection sets (checked before parsing; see documentShapeProblem). */
  readonly maxFields: number;
}

export const DEFAULT_COST_LIMITS: CostLimits = {
  maxTokens: 1_000_000,
  maxAnonymousTokens: 10_000,
  maxAliases: 128,
  maxDepth: 10,
  maxDirectives: 16,
  maxCost: 100_000,
  maxListNesting: 2,
  maxFields: 2_000,
};

export type LimitName = 'tokens' | 'aliases' | 'depth' | 'directives' | 'cost' | 'listNesting' | 'fields';

/** The error every limit reports; `extensions.limit` survives Apollo's re-coding of validation errors. */
export function tooComplex(limit: LimitName, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: QUERY_TOO_COMPLEX, limit, http: { status: 400 } } });
}

type Reject = (ctx: ValidationContext | null, err: GraphQLError) => void;

/** graphql-armor reports "Syntax Error: …" through its handlers; we re-issue it with our code. */
function reporter(limit: LimitName): { onReject: Reject[]; propagateOnRejection: false } {
  return {
    propagateOnRejection: false,
    onReject: [(ctx, err) => ctx?.reportError(tooComplex(limit, err.message.replace(/^Syntax Error: /, '')))],
  };
}

/** Validation rules to run with GraphQL's own (Apollo's `validationRules`). */
export function costLimitRules(limits: CostLimits = DEFAULT_COST_LIMITS): ValidationRule[] {
  return [
    maxAliasesRule({ n: limits.maxAliases, ...reporter('aliases') }),
    maxDepthRule({ n: limits.maxDepth, ...reporter('depth') }),
    maxDirectivesRule({ n: limits.maxDirectives, ...reporter('directives') }),
    costLimitRule({ maxCost: limits.maxCost, ...reporter('cost') }),
    listNestingRule(limits.maxListNesting),
  ];
}

/**
 * Refuses documents in which lists of objects nest more than `max` deep. Fragments are
 * followed (each one's nesting computed once, so reuse cannot make this exponential); a
 * fragment cycle counts as nothing here, GraphQL's own NoFragmentCycles rule refuses it.
 */
export function listNestingRule(max: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const fragmentNesting = new Map<string, number>();
    const schema = context.getSchema();
    const nesting = (selectionSet: SelectionSetNode, parent: GraphQLNamedType | undefined, inProgress: Set<string>): number => {
      let deepest = 0;
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FIELD) {
          deepest = Math.max(deepest, fieldNesting(selection, parent, inProgress));
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
          deepest = Math.max(deepest, nesting(selection.selectionSet, type ?? undefined, inProgress));
        } else {
          deepest = Math.max(deepest, spreadNesting(context.getFragment(selection.name.value), inProgress));
        }
      }
      return deepest;
    };
    const fieldNesting = (field: FieldNode, parent: GraphQLNamedType | undefined, inProgress: Set<string>): number => {
      if (!field.selectionSet) return 0;
      const def = parent && (isObjectType(parent) || isInterfaceType(parent)) ? parent.getFields()[field.name.value] : undefined;
      const type = def ? getNamedType(def.type) : undefined;
      const isObjectList = def !== undefined && isListType(getNullableType(def.type)) && (isObjectType(type) || isInterfaceType(type) || isUnionType(type));
      return (isObjectList ? 1 : 0) + nesting(field.selectionSet, type, inProgress);
    };
    const spreadNesting = (fragment: FragmentDefinitionNode | null | undefined, inProgress: Set<string>): number => {
      if (!fragment) return 0;
      const name = fragment.name.value;
      const known = fragmentNesting.get(name);
      if (known !== undefined) return known;
      if (inProgress.has(name)) return 0;
      inProgress.add(name);
      const value = nesting(fragment.selectionSet, schema.getType(fragment.typeCondition.name.value) ?? undefined, inProgress);
      inProgress.delete(name);
      fragmentNesting.set(name, value);
      return value;
    };
    return {
      OperationDefinition(operation) {
        const root = schema.getRootType(operation.operation) ?? undefined;
        const found = nesting(operation.selectionSet, root, new Set());
        if (found > max) {
          context.reportError(tooComplex('listNesting', `Lists nested ${found} deep; at most ${max} lists of objects may nest.`));
        }
      },
    };
  };
}

/** What a cheap pass over a document's tokens can tell (see `documentShape`). */
export interface ShapeLimits {
  readonly maxTokens: number;
  readonly maxAliases: number;
  readonly maxDepth: number;
  readonly maxFields: number;
}

/**
 * A first line of defence, before Apollo parses: one pass of GraphQL's lexer that stops at the
 * first limit broken, so refusing a 20,000-alias megabyte costs the same as refusing a 129-alias
 * kilobyte (parsing and validating the former blocked the event loop for a second or more).
 * It counts what it sees written: aliases, selection-set depth and fields outside argument
 * lists (arguments hold input values, however large a legitimate batch is), and tokens. What
 * fragments add is counted afterwards by the validation rules, on the parsed document. A
 * lexing error ends the pass: the parser reports it properly.
 */
export function documentShapeProblem(source: string, limits: ShapeLimits): { limit: LimitName; message: string } | undefined {
  const lexer = new Lexer(new Source(source));
  let tokens = 0;
  let aliases = 0;
  let fields = 0;
  let parens = 0;
  let depth = 0;
  let previous: TokenKind | undefined;
  let previousValue: string | undefined;
  try {
    for (let token = lexer.advance(); token.kind !== TokenKind.EOF; token = lexer.advance()) {
      if (++tokens > limits.maxTokens) return { limit: 'tokens', message: `Token limit of ${limits.maxTokens} exceeded.` };
      switch (token.kind) {
        case TokenKind.PAREN_L:
          parens += 1;
          break;
        case TokenKind.PAREN_R:
          parens -= 1;
          break;
        case TokenKind.BRACE_L:
          if (parens === 0 && ++depth > limits.maxDepth) return { limit: 'depth', message: `Depth limit of ${limits.maxDepth} exceeded.` };
          break;
        case TokenKind.BRACE_R:
          if (parens === 0) depth -= 1;
          break;
        case TokenKind.NAME:
          // In a selection set: a field, unless it names a fragment, a type condition or a directive.
          if (parens === 0 && depth > 0 && previous !== TokenKind.SPREAD && previous !== TokenKind.AT && !(previous === TokenKind.NAME && previousValue === 'on')) {
            if (lexer.lookahead().kind === TokenKind.COLON) {
              if (++aliases > limits.maxAliases) return { limit: 'aliases', message: `Aliases limit of ${limits.maxAliases} exceeded.` };
            } else if (++fields > limits.maxFields) {
              return { limit: 'fields', message: `Field limit of ${limits.maxFields} exceeded.` };
            }
          }
          break;
        default:
          break;
      }
      previous = token.kind;
      previousValue = token.value;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

export type ShapeProblem = ReturnType<typeof documentShapeProblem>;

/**
 * `documentShapeProblem` remembered for short documents: clients send the same few documents
 * with new variables on every call, and lexing one again cost 2–4% of a point read's CPU. The
 * verdict depends only on the text and the limits, so it never goes stale. Bounded: at most
 * `maxEntries` documents of at most `maxChars` characters per token limit (two limits in use:
 * with and without a key), the oldest forgotten first; longer documents are lexed every time.
 * By default 2 × 512 documents of up to 2,048 characters: at most 4 MiB of text, whoever sends
 * what. The other limits are the server's, fixed at construction.
 */
export class ShapeVerdicts {
  private readonly byMaxTokens = new Map<number, Map<string, ShapeProblem>>();

  constructor(
    private readonly limits: Omit<ShapeLimits, 'maxTokens'>,
    private readonly maxEntries = 512,
    private readonly maxChars = 2048,
  ) {}

  problem(source: string, maxTokens: number): ShapeProblem {
    const limits = { ...this.limits, maxTokens };
    if (source.length > this.maxChars) return documentShapeProblem(source, limits);
    let verdicts = this.byMaxTokens.get(maxTokens);
    if (!verdicts) this.byMaxTokens.set(maxTokens, (verdicts = new Map()));
    if (verdicts.has(source)) return verdicts.get(source);
    const verdict = documentShapeProblem(source, limits);
    if (verdicts.size >= this.maxEntries) verdicts.delete(verdicts.keys().next().value!);
    verdicts.set(source, verdict);
    return verdict;
  }
}

/**
 * Gives limit refusals their own code: Apollo re-codes every validation error as
 * GRAPHQL_VALIDATION_FAILED and graphql-js's own token limit is a parse error.
 */
export function withLimitCode(formatted: GraphQLFormattedError): GraphQLFormattedError {
  const extensions = formatted.extensions ?? {};
  if (typeof extensions.limit === 'string') return { ...formatted, extensions: { ...extensions, code: QUERY_TOO_COMPLEX } };
  if (extensions.code === 'GRAPHQL_PARSE_FAILED' && /Document contains more th\w* \d+ tokens/.test(formatted.message)) {
    return { ...formatted, extensions: { ...extensions, code: QUERY_TOO_COMPLEX, limit: 'tokens' } };
  }
  return formatted;
}
