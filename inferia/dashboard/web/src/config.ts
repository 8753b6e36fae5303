/** Where the APIs are. One-process mode: this origin. Split mode: the dashboard
 * plane serves /dashboard/config.json naming the other planes' URLs. */

export interface DashboardConfig {
  apiBase: string;
  gatewayBase: string;
}

export async function loadConfig(): Promise<DashboardConfig> {
  try {
    const response = await fetch(`${import.meta.env.BASE_URL}config.json`, { headers: { accept: "application/json" } });
    if (!response.ok) return { apiBase: "", gatewayBase: "" };
    const body = (await response.json()) as { api_base?: unknown; gateway_base?: unknown };
    return {
      apiBase: typeof body.api_base === "string" ? body.api_base.replace(/\/$/, "") : "",
      gatewayBase: typeof body.gateway_base === "string" ? body.gateway_base.replace(/\/$/, "") : "",
    };
  } catch {
    return { apiBase: "", gatewayBase: "" };
  }
}
