/** The shapes the public APIs answer with (see /docs/openapi.json). */

export interface ListResponse<T> {
  data: T[];
}

export interface CursorPage<T> {
  data: T[];
  next_cursor: string | null;
}

export interface OrganizationMembership {
  id: string;
  slug: string;
  name: string;
  role: string;
  active: boolean;
}

export interface Me {
  user_id: string;
  email: string;
  organization_id: string;
  role: string;
  permissions: string[];
  totp_enabled: boolean;
  is_superuser: boolean;
  organizations: OrganizationMembership[];
}

export interface ApiKeyRecord {
  id: string;
  organization_id: string;
  user_id: string | null;
  name: string;
  prefix: string;
  allowed_models: string[];
  expires_at: string | null;
  revoked_at: string | null;
  created_at: string;
}

export interface CreatedKey {
  key: string;
  api_key: ApiKeyRecord;
}

export interface EndpointRecord {
  base_url: string;
  has_api_key: boolean;
  upstream_model: string;
  weight: number;
  connect_timeout_s: number | null;
  request_timeout_s: number | null;
  headers: Record<string, string>;
}

export interface EndpointInput {
  base_url: string;
  api_key?: string | null;
  upstream_model?: string;
  weight?: number;
}

export type RoutingStrategy = "weighted_round_robin" | "least_outstanding" | "prefix_affinity";

export interface ModelRecord {
  id: string;
  name: string;
  routing_strategy: RoutingStrategy;
  endpoints: EndpointRecord[];
  created_at?: string;
  updated_at?: string;
}

export const LIMIT_FIELDS = [
  "rpm",
  "tpm",
  "max_parallel",
  "daily_tokens",
  "monthly_tokens",
  "daily_budget",
  "monthly_budget",
] as const;
export type LimitField = (typeof LIMIT_FIELDS)[number];
export type LimitValues = Partial<Record<LimitField, number | null>>;
export type PolicyScope = "organization" | "user" | "api_key";

export interface LimitPolicy {
  id: string;
  organization_id: string;
  scope: PolicyScope;
  subject: string;
  model: string;
  limits: LimitValues;
  log_bodies: boolean | null;
  created_at: string;
  updated_at: string;
}

export interface GuardrailEntry {
  scanner: string;
  action?: "block" | "redact" | "flag";
  threshold?: number | null;
  categories?: string[];
  fail_mode?: "closed" | "open";
  words?: string[];
  patterns?: string[];
  options?: Record<string, unknown>;
}

export interface GuardrailPolicy {
  input: GuardrailEntry[];
  output: GuardrailEntry[];
  rescan_shaped_prompt?: boolean;
}

export interface GuardrailPolicyRecord {
  id: string;
  organization_id: string;
  model: string;
  policy: GuardrailPolicy;
  created_at: string;
  updated_at: string;
}

export interface GuardrailPolicies {
  data: GuardrailPolicyRecord[];
  platform_default: GuardrailPolicy;
}

export interface GuardrailEvent {
  id: string;
  request_id: string;
  key_id: string | null;
  model: string;
  direction: "input" | "output";
  scanner: string;
  category: string;
  action: string;
  location: string;
  score: number;
  created_at: string;
}

export type UsageBucket = "minute" | "hour" | "day" | "month";
export type UsageDimension = "model" | "key" | "user";

export interface UsageRow {
  bucket: string;
  model?: string | null;
  key_id?: string | null;
  user_id?: string | null;
  requests: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: number;
}

export interface UsageReport {
  start: string;
  end: string;
  bucket: UsageBucket;
  group_by: UsageDimension[];
  data: UsageRow[];
}

export interface LogEntry {
  id: string;
  request_id: string;
  created_at: string;
  api: string;
  model: string;
  deployment: string | null;
  key_id: string | null;
  user_id: string | null;
  status: number;
  error_code: string | null;
  stream: boolean;
  prompt_tokens: number;
  completion_tokens: number;
  latency_ms: number;
  ttft_ms: number | null;
  request_body?: string | null;
  response_body?: string | null;
}

export interface MemberRecord {
  user_id: string;
  email: string;
  role: string;
  role_id: string;
  active: boolean;
  account_active: boolean;
  totp_enabled: boolean;
  joined_at: string;
}

export interface RoleRecord {
  id: string;
  name: string;
  permissions: string[];
  builtin: boolean;
  organization_id: string | null;
  created_at: string;
}

export interface InvitationRecord {
  id: string;
  email: string;
  role: string;
  expires_at: string;
  accepted_at?: string | null;
  revoked_at?: string | null;
  created_at: string;
}

export interface CreatedInvitation {
  invitation: InvitationRecord;
  token: string;
}

export interface AuditRecord {
  id: number;
  organization_id: string | null;
  actor_id: string | null;
  action: string;
  target: string | null;
  outcome: string;
  client_address: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
  created_at: string;
}

export interface TotpSetup {
  secret: string;
  otpauth_uri: string;
}

// The control plane (/deployment/*).

export const ENGINES = ["vllm", "llama.cpp", "sglang", "ollama", "openai-compatible"] as const;
export type Engine = (typeof ENGINES)[number];

export interface Resources {
  gpus: number;
  gpu_memory_gb: number;
  cpus: number;
  memory_gb: number;
}

export interface PoolRecord {
  id: string;
  owner_id: string;
  name: string;
  provider: string;
  config: Record<string, unknown>;
  has_credentials: boolean;
  allowed_gpu_types: string[];
  min_nodes: number;
  max_nodes: number;
  max_cost_per_hour: number | null;
  regions: string[];
  state: string;
  created_at: string;
}

export interface PoolInput {
  name: string;
  provider: string;
  config: Record<string, unknown>;
  credentials?: Record<string, string>;
  allowed_gpu_types: string[];
  min_nodes: number;
  max_nodes: number;
  max_cost_per_hour?: number;
  regions: string[];
}

export interface RegisteredModel {
  id: string;
  name: string;
  version: string;
  artifact_uri: string;
  engine: string;
  engine_args: string[];
  command: string[];
  resources: Resources;
  created_at: string;
}

export interface RegisteredModelInput {
  name: string;
  version: string;
  artifact_uri: string;
  engine: Engine;
  engine_args: string[];
  command: string[];
  resources: Resources;
}

export type DeploymentState =
  | "PENDING"
  | "PROVISIONING"
  | "STARTING"
  | "RUNNING"
  | "DEGRADED"
  | "FAILED"
  | "TERMINATING"
  | "TERMINATED";

export interface DeploymentEvent {
  at: string;
  from: string | null;
  to: string;
  reason: string;
  actor: string;
}

export interface DeploymentRecord {
  id: string;
  state: string;
  model: string;
  version: string;
  pool_id: string;
  served_name: string;
  replicas: { desired: number; ready: number };
  endpoints: string[];
  error: string | null;
  engine_args: string[];
  resources: Resources;
  routing_strategy: string | null;
  created_at: string;
  updated_at: string;
  events: DeploymentEvent[];
}

export interface DeployInput {
  model: string;
  version: string;
  pool_id: string;
  replicas: number;
  served_name?: string;
  routing_strategy?: RoutingStrategy;
}

// Prompt templates (/management/templates).
export const TEMPLATE_ROLES = ["system", "developer", "user", "assistant"] as const;
export type TemplateRole = (typeof TEMPLATE_ROLES)[number];
export const VARIABLE_TYPES = ["string", "number", "integer", "boolean", "array", "object"] as const;
export type VariableType = (typeof VARIABLE_TYPES)[number];

export interface MessageTemplate {
  role: TemplateRole;
  content: string;
}

export interface VariableSpec {
  name: string;
  type: VariableType;
  required?: boolean;
  default?: unknown;
}

export interface TemplateBody {
  messages: MessageTemplate[];
  variables: VariableSpec[];
}

export interface TemplateVersion extends TemplateBody {
  version: number;
  created_at: string;
}

export interface TemplateRecord {
  id: string;
  organization_id: string;
  name: string;
  /** The newest version. */
  version: number;
  active_version: number;
  created_at: string;
  updated_at: string;
  /** Every version, oldest first: in the one-template answer only. */
  versions?: TemplateVersion[];
}

export interface RenderResult {
  version: number;
  messages: { role: string; content: string }[];
}

// Knowledge bases (/management/knowledge-bases).
export interface KnowledgeBaseInput {
  name: string;
  embedding_model: string;
  chunk_tokens?: number;
  chunk_overlap?: number;
}

export interface KnowledgeBaseRecord {
  id: string;
  organization_id: string;
  name: string;
  embedding_model: string;
  chunk_tokens: number;
  chunk_overlap: number;
  dimensions: number | null;
  created_at: string;
}

export type DocumentState = "queued" | "parsing" | "embedding" | "ready" | "failed";

export interface DocumentRecord {
  id: string;
  knowledge_base_id: string;
  name: string;
  title: string;
  content_type: string;
  size_bytes: number;
  state: DocumentState;
  progress: { chunks_done: number; chunks_total: number };
  error: string | null;
  created_at: string;
  updated_at: string;
}

export interface SearchHit {
  document_id: string;
  title: string;
  position: number;
  score: number;
  text: string;
}

// Compute nodes (/inventory/nodes).
export interface NodeResources {
  gpus: Record<string, number>;
  gpu_memory_gb: number;
  cpus: number;
  memory_gb: number;
}

export interface NodeInput {
  pool_id: string;
  provider_instance_id?: string;
  capacity?: Partial<NodeResources>;
  endpoint?: string;
}

export interface NodeRecord {
  id: string;
  pool_id: string;
  provider_instance_id: string;
  capacity: NodeResources;
  allocation: NodeResources;
  state: string;
  endpoint: string | null;
  last_heartbeat: string | null;
  created_at: string;
  replicas: string[];
}

export interface RegisteredNode {
  node: NodeRecord;
  /** Shown once: the node sends it as its bearer token. */
  token: string;
}
