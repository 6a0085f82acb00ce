import http from 'node:http';
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

/**
 * Like gql, but sent from a given loopback address (127.0.0.2, …): a client address of its
 * own, with its own rate-limit bucket and its own refusal windows.
 */
export async function gqlFrom<T = Record<string, unknown>>(
  localAddress: string,
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<GraphQLResponse<T> & { status: number; headers: http.IncomingHttpHeaders }> {
  const body = JSON.stringify({ query, variables });
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${url}/graphql`,
      {
        method: 'POST',
        localAddress,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...(token && { authorization: `Bearer ${token}` }) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => {
          try {
            resolve({ ...(JSON.parse(text) as GraphQLResponse<T>), status: res.statusCode ?? 0, headers: res.headers });
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
