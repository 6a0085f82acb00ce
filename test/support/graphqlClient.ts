/** A minimal GraphQL-over-HTTP client for end-to-end tests. */
export interface GraphQLResponse<T> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string; field?: string } }[];
}

export async function gql<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<GraphQLResponse<T>> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as GraphQLResponse<T>;
}

/** Like gql, but throws on any GraphQL error. */
export async function gqlOk<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<T> {
  const res = await gql<T>(url, query, variables, token);
  if (res.errors?.length || !res.data) throw new Error(`GraphQL error: ${JSON.stringify(res.errors)}`);
  return res.data;
}

export function errorCode(res: GraphQLResponse<unknown>): string | undefined {
  return res.errors?.[0]?.extensions?.code;
}

export const RECEIPT_FIELDS = `eventId leafIndex leafHash inclusionProof { leafIndex treeSize leafHash hashes checkpoint { origin treeSize rootHash note } }`;
