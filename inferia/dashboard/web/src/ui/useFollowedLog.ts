import { useEffect, useState } from "react";
import type { Api } from "../api/endpoints";
import { appendLog, logText, type FollowedLog } from "../lib/deployments";

export interface FollowedLogState {
  text: string;
  /** "connecting", "following" (the stream is open), "ended" (the server closed it). */
  status: "connecting" | "following" | "ended";
  error: unknown;
}

/** Follows a deployment's log: the last lines, then each new one as the server writes
 * it. The stream is closed when the component leaves; a new `attempt` reconnects. */
export function useFollowedLog(api: Api, deploymentId: string, attempt: number): FollowedLogState {
  const [state, setState] = useState<FollowedLogState & { key: string }>({ key: "", text: "", status: "connecting", error: null });
  const key = `${deploymentId}:${attempt}`;
  useEffect(() => {
    const controller = new AbortController();
    const read = async () => {
      const response = await api.followDeploymentLogs(deploymentId, controller.signal);
      const reader = response.body?.getReader();
      const decoder = new TextDecoder();
      let log: FollowedLog = { lines: [], partial: "" };
      setState({ key, text: "", status: "following", error: null });
      for (;;) {
        const chunk = reader ? await reader.read() : { done: true as const, value: undefined };
        if (chunk.done) break;
        log = appendLog(log, decoder.decode(chunk.value, { stream: true }));
        const text = logText(log);
        setState((current) => ({ ...current, key, text }));
      }
      setState((current) => ({ ...current, key, status: "ended" }));
    };
    read().catch((error: unknown) => {
      if (!controller.signal.aborted) setState((current) => ({ ...current, key, status: "ended", error }));
    });
    return () => controller.abort();
  }, [api, deploymentId, key]);
  // A state left from another deployment or attempt is not shown.
  return state.key === key ? state : { text: "", status: "connecting", error: null };
}
