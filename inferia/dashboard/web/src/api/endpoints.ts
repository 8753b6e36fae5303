/** Typed calls of the public REST APIs, one function per route the dashboard uses. */

import type { ApiClient, Query } from "./client";
import type { TokenPair } from "./session";
import type {
  ApiKeyRecord,
  AuditRecord,
  CreatedInvitation,
  CreatedKey,
  CursorPage,
  DeployInput,
  DocumentRecord,
  KnowledgeBaseInput,
  KnowledgeBaseRecord,
  NodeInput,
  NodeRecord,
  RegisteredNode,
  RenderResult,
  SearchHit,
  TemplateBody,
  TemplateRecord,
  DeploymentEvent,
  DeploymentRecord,
  EndpointInput,
  GuardrailEvent,
  GuardrailPolicies,
  GuardrailPolicy,
  GuardrailPolicyRecord,
  InvitationRecord,
  LimitPolicy,
  LimitValues,
  ListResponse,
  LogEntry,
  Me,
  PoolInput,
  PoolRecord,
  RegisteredModel,
  RegisteredModelInput,
  MemberRecord,
  ModelRecord,
  PolicyScope,
  RoleRecord,
  RoutingStrategy,
  TotpSetup,
  UsageReport,
} from "./types";

export interface LoginInput {
  email: string;
  password: string;
  totp?: string;
  organization?: string;
}

/** How long a followed log may wait for its first line. */
const FOLLOW_TIMEOUT_MS = 10 * 60_000;

export function endpoints(client: ApiClient) {
  const get = <T>(path: string, query?: Query) => client.request<T>(path, { query });
  const post = <T>(path: string, body: unknown) => client.request<T>(path, { method: "POST", body });
  const patch = <T>(path: string, body: unknown) => client.request<T>(path, { method: "PATCH", body });
  const del = (path: string) => client.request<undefined>(path, { method: "DELETE" });
  const id = encodeURIComponent;

  return {
    // refresh_cookie: the server keeps the refresh token in an HttpOnly cookie.
    login: (input: LoginInput) =>
      client.request<TokenPair>("/auth/login", { method: "POST", body: { ...input, refresh_cookie: true }, anonymous: true }),
    logout: () =>
      client.request<undefined>("/auth/logout", {
        method: "POST",
        body: client.tokens.refreshToken ? { refresh_token: client.tokens.refreshToken } : null,
      }),
    me: () => get<Me>("/auth/me"),
    switchOrg: (organization: string) => post<TokenPair>("/auth/switch-org", { organization, refresh_cookie: true }),
    totpSetup: () => post<TotpSetup>("/auth/totp/setup", {}),
    totpVerify: (code: string) =>
      post<{ enabled: boolean; recovery_codes: string[] }>("/auth/totp/verify", { code }),
    totpDisable: (password: string, code: string) =>
      client.request<undefined>("/auth/totp/disable", { method: "POST", body: { password, code } }),
    // totp: the existing account's code (or a recovery code) when it has 2FA.
    acceptInvite: (token: string, password: string, totp?: string) =>
      client.request<{ email: string; created_account: boolean }>("/auth/accept-invite", {
        method: "POST",
        body: { token, password, ...(totp ? { totp } : {}) },
        anonymous: true,
      }),

    apiKeys: (includeRevoked: boolean) =>
      get<ListResponse<ApiKeyRecord>>("/management/api-keys", { include_revoked: includeRevoked || undefined }),
    createApiKey: (body: { name: string; allowed_models?: string[]; expires_at?: string | null }) =>
      post<CreatedKey>("/management/api-keys", body),
    revokeApiKey: (keyId: string) => del(`/management/api-keys/${id(keyId)}`),

    models: () => get<ListResponse<ModelRecord>>("/management/models"),
    model: (modelId: string) => get<ModelRecord>(`/management/models/${id(modelId)}`),
    createModel: (body: { name: string; routing_strategy: RoutingStrategy; endpoints: EndpointInput[] }) =>
      post<ModelRecord>("/management/models", body),
    updateModel: (modelId: string, body: { routing_strategy?: RoutingStrategy; endpoints?: EndpointInput[] }) =>
      patch<ModelRecord>(`/management/models/${id(modelId)}`, body),
    deleteModel: (modelId: string) => del(`/management/models/${id(modelId)}`),

    policies: () => get<ListResponse<LimitPolicy>>("/management/policies"),
    createPolicy: (body: { scope: PolicyScope; subject?: string; model: string; limits: LimitValues }) =>
      post<LimitPolicy>("/management/policies", body),
    updatePolicy: (policyId: string, body: { limits: LimitValues }) =>
      patch<LimitPolicy>(`/management/policies/${id(policyId)}`, body),
    deletePolicy: (policyId: string) => del(`/management/policies/${id(policyId)}`),

    guardrailPolicies: () => get<GuardrailPolicies>("/management/guardrails"),
    guardrailScanners: () => get<ListResponse<{ name: string }>>("/management/guardrails/scanners"),
    putGuardrailPolicy: (model: string, policy: GuardrailPolicy) =>
      client.request<GuardrailPolicyRecord>(`/management/guardrails/${id(model)}`, { method: "PUT", body: policy }),
    deleteGuardrailPolicy: (model: string) => del(`/management/guardrails/${id(model)}`),
    guardrailEvents: (query: Query) => get<ListResponse<GuardrailEvent>>("/management/guardrails/events", query),

    usage: (query: Query) => get<UsageReport>("/management/usage", query),
    logs: (query: Query) => get<CursorPage<LogEntry>>("/management/logs", query),

    members: () => get<ListResponse<MemberRecord>>("/admin/users"),
    updateMember: (userId: string, body: { role?: string; active?: boolean }) =>
      patch<MemberRecord>(`/admin/users/${id(userId)}`, body),
    removeMember: (userId: string) => del(`/admin/users/${id(userId)}`),
    roles: () => get<ListResponse<RoleRecord>>("/admin/roles"),
    permissions: () => get<{ permissions: string[] }>("/admin/permissions"),
    createRole: (body: { name: string; permissions: string[] }) => post<RoleRecord>("/admin/roles", body),
    deleteRole: (roleId: string) => del(`/admin/roles/${id(roleId)}`),
    invitations: () => get<ListResponse<InvitationRecord>>("/management/members/invitations"),
    invite: (body: { email: string; role: string }) => post<CreatedInvitation>("/management/members/invitations", body),
    revokeInvitation: (invitationId: string) => del(`/management/members/invitations/${id(invitationId)}`),

    templates: () => get<ListResponse<TemplateRecord>>("/management/templates"),
    template: (templateId: string) => get<TemplateRecord>(`/management/templates/${id(templateId)}`),
    createTemplate: (body: TemplateBody & { name: string }) => post<TemplateRecord>("/management/templates", body),
    addTemplateVersion: (templateId: string, body: TemplateBody) =>
      post<TemplateRecord>(`/management/templates/${id(templateId)}/versions`, body),
    activateTemplate: (templateId: string, version: number) =>
      post<TemplateRecord>(`/management/templates/${id(templateId)}/activate`, { version }),
    renderTemplate: (templateId: string, variables: Record<string, unknown>, version?: number) =>
      post<RenderResult>(`/management/templates/${id(templateId)}/render`, { variables, ...(version ? { version } : {}) }),
    deleteTemplate: (templateId: string) => del(`/management/templates/${id(templateId)}`),

    knowledgeBases: () => get<ListResponse<KnowledgeBaseRecord>>("/management/knowledge-bases"),
    knowledgeBase: (baseId: string) => get<KnowledgeBaseRecord>(`/management/knowledge-bases/${id(baseId)}`),
    createKnowledgeBase: (body: KnowledgeBaseInput) => post<KnowledgeBaseRecord>("/management/knowledge-bases", body),
    deleteKnowledgeBase: (baseId: string) => del(`/management/knowledge-bases/${id(baseId)}`),
    documents: (baseId: string) => get<ListResponse<DocumentRecord>>(`/management/knowledge-bases/${id(baseId)}/documents`),
    uploadDocument: (baseId: string, file: File, title?: string) => {
      const form = new FormData();
      form.append("file", file);
      if (title) form.append("title", title);
      return client.request<DocumentRecord>(`/management/knowledge-bases/${id(baseId)}/documents`, {
        method: "POST",
        body: form,
        timeoutMs: 120_000,
      });
    },
    deleteDocument: (baseId: string, documentId: string) =>
      del(`/management/knowledge-bases/${id(baseId)}/documents/${id(documentId)}`),
    searchKnowledgeBase: (baseId: string, query: string, topK?: number) =>
      post<ListResponse<SearchHit>>(`/management/knowledge-bases/${id(baseId)}/search`, { query, ...(topK ? { top_k: topK } : {}) }),

    // The control plane.
    pools: (organizationId: string) => get<ListResponse<PoolRecord>>(`/deployment/listPools/${id(organizationId)}`),
    createPool: (body: PoolInput) => post<PoolRecord>("/deployment/createpool", body),
    deletePool: (poolId: string) => del(`/deployment/pool/${id(poolId)}`),
    registry: () => get<ListResponse<RegisteredModel>>("/deployment/listModels"),
    registerModel: (body: RegisteredModelInput) => post<RegisteredModel>("/deployment/registerModel", body),
    deleteRegisteredModel: (name: string, version: string) => del(`/deployment/deleteModel/${id(name)}/${id(version)}`),
    deployments: () => get<ListResponse<DeploymentRecord>>("/deployment/deployments"),
    deployment: (deploymentId: string) => get<DeploymentRecord>(`/deployment/status/${id(deploymentId)}`),
    deploymentEvents: (deploymentId: string) => get<ListResponse<DeploymentEvent>>(`/deployment/events/${id(deploymentId)}`),
    deploymentLogs: (deploymentId: string, tail = 200) => get<string | null>(`/deployment/logs/${id(deploymentId)}`, { tail }),
    /** The model servers' output as it is written: the last `tail` lines, then new ones. */
    followDeploymentLogs: (deploymentId: string, signal: AbortSignal, tail = 200) =>
      client.stream(`/deployment/logs/${id(deploymentId)}`, {
        query: { tail, follow: true },
        signal,
        headers: { accept: "text/plain" },
        // The server may hold the headers until the first line is written.
        timeoutMs: FOLLOW_TIMEOUT_MS,
      }),
    deploy: (body: DeployInput) => post<DeploymentRecord>("/deployment/deploy", body),
    scaleDeployment: (deploymentId: string, replicas: number) =>
      post<DeploymentRecord>(`/deployment/scale/${id(deploymentId)}`, { replicas }),
    terminateDeployment: (deploymentId: string) => post<DeploymentRecord>(`/deployment/terminate/${id(deploymentId)}`, {}),

    nodes: (poolId?: string) => get<ListResponse<NodeRecord>>("/inventory/nodes", { pool_id: poolId }),
    registerNode: (body: NodeInput) => post<RegisteredNode>("/inventory/nodes", body),
    deleteNode: (nodeId: string) => del(`/inventory/nodes/${id(nodeId)}`),

    audit: (query: Query) => get<CursorPage<AuditRecord>>("/audit/logs", query),
  };
}

export type Api = ReturnType<typeof endpoints>;
