// A small typed client of the xciss gateway, as a partner's or the city's own
// front end would write it: sign in, search the catalogue, apply for a voucher.
// The types come from the combined OpenAPI document (GET /api/openapi.json):
//   OPENAPI=https://<gateway>/api/openapi.json npm run types && npm run check
// tests/integration/gateway/test_typescript_client.py does this in CI.
import createClient from "openapi-fetch";
import type { components, paths } from "./xciss-api";

export type Api = ReturnType<typeof createClient<paths>>;
export type Problem = components["schemas"]["registry_Problem"];

/** The platform's refusal: its stable code and the Chinese and English messages. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly messageZh: string,
  ) {
    super(`${status} ${code}: ${messageZh}`);
  }
}

function refused(status: number, problem: { code: string; message_zh: string } | undefined): ApiError {
  return new ApiError(status, problem?.code ?? "unknown", problem?.message_zh ?? "");
}

/** A client for the gateway at `baseUrl`, sending `token` when signed in. */
export function connect(baseUrl: string, token?: string): Api {
  return createClient<paths>({ baseUrl, headers: token ? { Authorization: `Bearer ${token}` } : {} });
}

/** Sign in with a local account; the bearer token is valid for every service. */
export async function signIn(baseUrl: string, username: string, password: string): Promise<Api> {
  const { data, error, response } = await connect(baseUrl).POST("/api/registry/v1/sessions", {
    body: { username, password },
  });
  if (!data) throw refused(response.status, error);
  return connect(baseUrl, data.token);
}

export interface Found {
  instrumentId: string;
  name: string;
  unitName: string;
  lowestPriceFen: number | null;
}

/** Instruments whose units accept innovation vouchers, cheapest first. */
export async function searchVoucherInstruments(api: Api, keywords: string): Promise<Found[]> {
  const { data, error, response } = await api.GET("/api/registry/v1/catalogue/instruments", {
    params: { query: { q: keywords, accepts_vouchers: true, sort: "price_asc" } },
  });
  if (!data) throw refused(response.status, error);
  return data.items.map((item) => ({
    instrumentId: item.instrument_id,
    name: item.name,
    unitName: item.unit_name,
    lowestPriceFen: item.min_price_fen ?? null,
  }));
}

/** Apply for a voucher on one of the signed-in user's contracted orders. A retry
 * with the same key is answered once (the first answer is replayed). */
export async function applyForVoucher(api: Api, orderId: string, idempotencyKey: string): Promise<{ applicationId: string; status: string; failures: string[] }> {
  const { data, error, response } = await api.POST("/api/vouchers/v1/applications", {
    body: { order_id: orderId },
    headers: { "Idempotency-Key": idempotencyKey },
  });
  if (!data) throw refused(response.status, error);
  return { applicationId: data.application_id, status: data.status, failures: data.failures };
}
