import { Route, Routes } from "react-router";
import { RequireSession } from "./auth/RequireSession";
import { AcceptInvitePage } from "./pages/AcceptInvitePage";
import { AccountPage } from "./pages/AccountPage";
import { ApiKeysPage } from "./pages/ApiKeysPage";
import { AuditPage } from "./pages/AuditPage";
import { DeploymentPage, DeploymentsPage } from "./pages/DeploymentsPage";
import { KnowledgeBasePage, KnowledgeBasesPage } from "./pages/KnowledgeBasesPage";
import { GuardrailsPage } from "./pages/GuardrailsPage";
import { LimitsPage } from "./pages/LimitsPage";
import { LoginPage } from "./pages/LoginPage";
import { LogsPage } from "./pages/LogsPage";
import { MembersPage } from "./pages/MembersPage";
import { ModelPage, ModelsPage } from "./pages/ModelsPage";
import { NodesPage } from "./pages/NodesPage";
import { NotFoundPage } from "./pages/NotFoundPage";
import { OverviewPage } from "./pages/OverviewPage";
import { PlaygroundPage } from "./pages/PlaygroundPage";
import { PoolsPage } from "./pages/PoolsPage";
import { RegistryPage } from "./pages/RegistryPage";
import { TemplatePage, TemplatesPage } from "./pages/TemplatesPage";
import { UsagePage } from "./pages/UsagePage";
import { Layout } from "./ui/Layout";

export function App() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route path="/accept-invite" element={<AcceptInvitePage />} />
      <Route
        element={
          <RequireSession>
            <Layout />
          </RequireSession>
        }
      >
        <Route index element={<OverviewPage />} />
        <Route path="playground" element={<PlaygroundPage />} />
        <Route path="api-keys" element={<ApiKeysPage />} />
        <Route path="models" element={<ModelsPage />} />
        <Route path="models/:modelId" element={<ModelPage />} />
        <Route path="deployments" element={<DeploymentsPage />} />
        <Route path="deployments/:deploymentId" element={<DeploymentPage />} />
        <Route path="registry" element={<RegistryPage />} />
        <Route path="pools" element={<PoolsPage />} />
        <Route path="nodes" element={<NodesPage />} />
        <Route path="templates" element={<TemplatesPage />} />
        <Route path="templates/:templateId" element={<TemplatePage />} />
        <Route path="knowledge-bases" element={<KnowledgeBasesPage />} />
        <Route path="knowledge-bases/:baseId" element={<KnowledgeBasePage />} />
        <Route path="limits" element={<LimitsPage />} />
        <Route path="guardrails" element={<GuardrailsPage />} />
        <Route path="usage" element={<UsagePage />} />
        <Route path="logs" element={<LogsPage />} />
        <Route path="members" element={<MembersPage />} />
        <Route path="audit" element={<AuditPage />} />
        <Route path="account" element={<AccountPage />} />
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}
