import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router";
import { ApiClient } from "./api/client";
import { endpoints } from "./api/endpoints";
import { ApiError } from "./api/errors";
import { SessionTokens } from "./api/session";
import { App } from "./App";
import { SessionProvider } from "./auth/session";
import { loadConfig } from "./config";
import { applyTheme, initialTheme } from "./lib/theme";
import "./styles.css";

applyTheme(initialTheme());

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 10_000,
      // Only failures a retry can fix (network, timeout, 5xx); a 4xx answers the same again.
      retry: (count, error) => count < 1 && error instanceof ApiError && (error.kind !== "http" || error.status >= 500),
      refetchOnWindowFocus: false,
    },
  },
});

const config = await loadConfig();
const client = new ApiClient({ apiBase: config.apiBase, tokens: new SessionTokens() });
const api = endpoints(client);

const root = document.getElementById("root");
if (!root) throw new Error("no #root element");
createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <BrowserRouter basename="/dashboard">
        <SessionProvider api={api} client={client} gatewayBase={config.gatewayBase}>
          <App />
        </SessionProvider>
      </BrowserRouter>
    </QueryClientProvider>
  </StrictMode>,
);
