/** The signed-in user: tokens (in memory), who they are, what they may do. */

import { useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import type { ApiClient } from "../api/client";
import type { Api, LoginInput } from "../api/endpoints";
import type { Me } from "../api/types";

export type SessionStatus = "restoring" | "anonymous" | "signed-in";

export interface Session {
  status: SessionStatus;
  me: Me | null;
  /** Why the user was sent back to the login page, if they were. */
  endedReason: string | null;
  /** The user signed out themselves: the login page then leads nowhere in particular. */
  signedOut: boolean;
  login: (input: LoginInput) => Promise<void>;
  logout: () => Promise<void>;
  switchOrg: (organizationId: string) => Promise<void>;
  reloadMe: () => Promise<void>;
  can: (permission: string) => boolean;
}

const SessionContext = createContext<Session | null>(null);
const ApiContext = createContext<{ api: Api; client: ApiClient; gatewayBase: string } | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside SessionProvider");
  return session;
}

export function useApi(): Api {
  const value = useContext(ApiContext);
  if (!value) throw new Error("useApi outside SessionProvider");
  return value.api;
}

export function useGatewayBase(): string {
  return useContext(ApiContext)?.gatewayBase ?? "";
}

/** `can("api_keys:write")`: hides controls; the API refuses them anyway. */
export function useCan(): (permission: string) => boolean {
  return useSession().can;
}

interface Props {
  api: Api;
  client: ApiClient;
  gatewayBase: string;
  children: ReactNode;
}

export function SessionProvider({ api, client, gatewayBase, children }: Props) {
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<SessionStatus>("restoring");
  const [me, setMe] = useState<Me | null>(null);
  const [endedReason, setEndedReason] = useState<string | null>(null);
  const [signedOut, setSignedOut] = useState(false);
  // Set while the user signs out, so that is not reported as an ended session.
  const signingOut = useRef(false);

  const reloadMe = useCallback(async () => {
    setMe(await api.me());
    setStatus("signed-in");
  }, [api]);

  useEffect(() => {
    // A reload: a session survives only if the server can refresh it (cookie mode).
    let cancelled = false;
    client
      .refreshOnce()
      .then(async (restored) => {
        if (cancelled) return;
        if (restored) await reloadMe();
        else setStatus("anonymous");
      })
      .catch(() => !cancelled && setStatus("anonymous"));
    return () => {
      cancelled = true;
    };
  }, [client, reloadMe]);

  useEffect(
    () =>
      client.tokens.subscribe(() => {
        if (client.tokens.accessToken === null) {
          if (!signingOut.current) setEndedReason("Your session has ended. Sign in again to continue.");
          setMe(null);
          setStatus("anonymous");
          queryClient.clear();
        }
      }),
    [client, queryClient],
  );

  const login = useCallback(
    async (input: LoginInput) => {
      client.tokens.set(await api.login(input));
      setEndedReason(null);
      setSignedOut(false);
      await reloadMe();
    },
    [api, client, reloadMe],
  );

  const logout = useCallback(async () => {
    signingOut.current = true;
    setSignedOut(true);
    try {
      await api.logout();
    } catch {
      // Signed out locally either way; the session then ends with its refresh token.
    } finally {
      setEndedReason(null);
      client.tokens.clear();
      signingOut.current = false;
    }
  }, [api, client]);

  const switchOrg = useCallback(
    async (organizationId: string) => {
      client.tokens.set(await api.switchOrg(organizationId));
      queryClient.clear();
      await reloadMe();
    },
    [api, client, queryClient, reloadMe],
  );

  const session = useMemo<Session>(() => {
    const permissions = new Set(me?.permissions ?? []);
    return {
      status,
      me,
      endedReason,
      signedOut,
      login,
      logout,
      switchOrg,
      reloadMe,
      can: (permission) => permissions.has(permission),
    };
  }, [status, me, endedReason, signedOut, login, logout, switchOrg, reloadMe]);

  const apiValue = useMemo(() => ({ api, client, gatewayBase }), [api, client, gatewayBase]);
  return (
    <ApiContext.Provider value={apiValue}>
      <SessionContext.Provider value={session}>{children}</SessionContext.Provider>
    </ApiContext.Provider>
  );
}
