import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { describeError } from "../api/errors";
import type { CreatedInvitation, RoleRecord } from "../api/types";
import { useApi, useCan, useSession } from "../auth/session";
import { formatTime } from "../lib/format";
import { matches, paginate } from "../lib/paginate";
import { checkEmail, checkName } from "../lib/validation";
import { ConfirmButton } from "../ui/ConfirmButton";
import { CopyButton } from "../ui/CopyButton";
import { Dialog } from "../ui/Dialog";
import { Field, Select } from "../ui/Field";
import { PageHeader } from "../ui/PageHeader";
import { Pager } from "../ui/Pager";
import { QueryView } from "../ui/QueryView";

function useRoles() {
  const api = useApi();
  const can = useCan();
  return useQuery({ queryKey: ["roles"], queryFn: api.roles, enabled: can("roles:read") });
}

function Users() {
  const api = useApi();
  const can = useCan();
  const { me } = useSession();
  const queryClient = useQueryClient();
  const roles = useRoles();
  const [filter, setFilter] = useState("");
  const [page, setPage] = useState(1);
  const [failure, setFailure] = useState<unknown>(null);
  const members = useQuery({ queryKey: ["members"], queryFn: api.members });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["members"] });
  const update = useMutation({
    mutationFn: ({ id, role }: { id: string; role: string }) => api.updateMember(id, { role }),
    onSuccess: refresh,
    onError: setFailure,
  });
  const mayWrite = can("members:write");
  const roleNames = roles.data?.data.map((r) => r.name) ?? [];

  return (
    <>
      <h2>Users</h2>
      <div className="toolbar">
        <Field label="Filter users" placeholder="e-mail or role" value={filter} onChange={(e) => (setFilter(e.target.value), setPage(1))} />
      </div>
      {failure ? <p className="field-error" role="alert">{describeError(failure)}</p> : null}
      <QueryView query={members}>
        {({ data }) => {
          const shown = paginate(data.filter((m) => matches(filter, m.email, m.role)), page);
          return (
            <>
              <table>
                <thead>
                  <tr>
                    <th scope="col">E-mail</th>
                    <th scope="col">Role</th>
                    <th scope="col">Active</th>
                    <th scope="col">2FA</th>
                    <th scope="col">Joined</th>
                    {mayWrite ? <th scope="col"><span className="visually-hidden">Actions</span></th> : null}
                  </tr>
                </thead>
                <tbody>
                  {shown.items.map((member) => (
                    <tr key={member.user_id}>
                      <td>{member.email}</td>
                      <td>
                        {mayWrite && roleNames.length && member.user_id !== me?.user_id ? (
                          <select
                            aria-label={`Role of ${member.email}`}
                            value={member.role}
                            onChange={(e) => {
                              setFailure(null);
                              update.mutate({ id: member.user_id, role: e.target.value });
                            }}
                          >
                            {roleNames.map((name) => (
                              <option key={name}>{name}</option>
                            ))}
                          </select>
                        ) : (
                          member.role
                        )}
                      </td>
                      <td>{member.active && member.account_active ? "yes" : "no"}</td>
                      <td>{member.totp_enabled ? "on" : "off"}</td>
                      <td>{formatTime(member.joined_at)}</td>
                      {mayWrite ? (
                        <td>
                          {member.user_id === me?.user_id ? null : (
                            <ConfirmButton
                              label="Remove"
                              accessibleLabel={`Remove ${member.email}`}
                              question={`Remove ${member.email} from this organisation? Their sessions here end at once.`}
                              onConfirm={async () => {
                                await api.removeMember(member.user_id);
                                await refresh();
                              }}
                            />
                          )}
                        </td>
                      ) : null}
                    </tr>
                  ))}
                </tbody>
              </table>
              <Pager page={shown.page} pageCount={shown.pageCount} onPage={setPage} label="User pages" />
            </>
          );
        }}
      </QueryView>
    </>
  );
}

function InviteForm({ roles, onInvited }: { roles: RoleRecord[]; onInvited: (created: CreatedInvitation) => void }) {
  const api = useApi();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState("member");
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const problem = checkEmail(email);
    if (problem) return setError(problem);
    setError(null);
    try {
      onInvited(await api.invite({ email: email.trim(), role }));
    } catch (failure) {
      setError(describeError(failure));
    }
  };
  return (
    <form onSubmit={(event) => void submit(event)} noValidate>
      <Field label="E-mail" type="email" value={email} onChange={(e) => setEmail(e.target.value)} />
      <Select label="Role" value={role} options={roles.map((r) => r.name)} onChange={setRole} />
      {error ? <p className="field-error" role="alert">{error}</p> : null}
      <div className="actions">
        <button type="submit" className="primary">
          Invite
        </button>
      </div>
    </form>
  );
}

function Invitations() {
  const api = useApi();
  const can = useCan();
  const queryClient = useQueryClient();
  const roles = useRoles();
  const [inviting, setInviting] = useState(false);
  const [created, setCreated] = useState<CreatedInvitation | null>(null);
  const [page, setPage] = useState(1);
  const invitations = useQuery({ queryKey: ["invitations"], queryFn: api.invitations });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["invitations"] });
  const mayWrite = can("members:write");
  const link = created ? `${window.location.origin}${import.meta.env.BASE_URL}accept-invite?token=${encodeURIComponent(created.token)}` : "";
  const close = () => {
    setInviting(false);
    setCreated(null);
  };
  return (
    <>
      <div className="section-header">
        <h2>Invitations</h2>
        {mayWrite ? (
          <button type="button" className="primary" onClick={() => setInviting(true)}>
            Invite someone
          </button>
        ) : null}
      </div>
      <QueryView query={invitations}>
        {({ data }) => {
          const shown = paginate(data, page);
          return (
            <>
              <table>
                <thead>
                  <tr>
                    <th scope="col">E-mail</th>
                    <th scope="col">Role</th>
                    <th scope="col">Expires</th>
                    <th scope="col">State</th>
                    {mayWrite ? <th scope="col"><span className="visually-hidden">Actions</span></th> : null}
                  </tr>
                </thead>
                <tbody>
                  {shown.items.map((invitation) => (
                    <tr key={invitation.id}>
                      <td>{invitation.email}</td>
                      <td>{invitation.role}</td>
                      <td>{formatTime(invitation.expires_at)}</td>
                      <td>{invitation.accepted_at ? "accepted" : invitation.revoked_at ? "revoked" : "open"}</td>
                      {mayWrite ? (
                        <td>
                          {invitation.accepted_at || invitation.revoked_at ? null : (
                            <ConfirmButton
                              label="Revoke"
                              accessibleLabel={`Revoke the invitation of ${invitation.email}`}
                              question={`Revoke the invitation of ${invitation.email}? Its link stops working.`}
                              onConfirm={async () => {
                                await api.revokeInvitation(invitation.id);
                                await refresh();
                              }}
                            />
                          )}
                        </td>
                      ) : null}
                    </tr>
                  ))}
                </tbody>
              </table>
              {shown.total === 0 ? <p className="muted">No invitations.</p> : null}
              <Pager page={shown.page} pageCount={shown.pageCount} onPage={setPage} label="Invitation pages" />
            </>
          );
        }}
      </QueryView>
      <Dialog open={inviting} title={created ? "Invitation created" : "Invite someone"} onClose={close}>
        {created ? (
          <>
            <p>Send this link to {created.invitation.email}. It is shown only once.</p>
            <p className="secret">
              <code data-testid="invite-link">{link}</code>
            </p>
            <div className="actions">
              <CopyButton text={link} label="Copy link" />
              <button type="button" className="primary" onClick={close}>
                Done
              </button>
            </div>
          </>
        ) : (
          <InviteForm
            roles={roles.data?.data ?? []}
            onInvited={(invitation) => {
              setCreated(invitation);
              void refresh();
            }}
          />
        )}
      </Dialog>
    </>
  );
}

function Roles() {
  const api = useApi();
  const can = useCan();
  const queryClient = useQueryClient();
  const roles = useRoles();
  const catalogue = useQuery({ queryKey: ["permissions"], queryFn: api.permissions, enabled: can("roles:write") });
  const [creating, setCreating] = useState(false);
  const [name, setName] = useState("");
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [error, setError] = useState<string | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["roles"] });
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const problem = checkName(name, 64);
    if (problem) return setError(problem);
    try {
      await api.createRole({ name: name.trim(), permissions: [...chosen].sort() });
      setCreating(false);
      setName("");
      setChosen(new Set());
      setError(null);
      await refresh();
    } catch (failure) {
      setError(describeError(failure));
    }
  };
  if (!can("roles:read")) return null;
  return (
    <>
      <div className="section-header">
        <h2>Roles</h2>
        {can("roles:write") ? (
          <button type="button" onClick={() => setCreating(true)}>
            Add role
          </button>
        ) : null}
      </div>
      <QueryView query={roles}>
        {({ data }) => (
          <table>
            <thead>
              <tr>
                <th scope="col">Role</th>
                <th scope="col">Permissions</th>
                {can("roles:write") ? <th scope="col"><span className="visually-hidden">Actions</span></th> : null}
              </tr>
            </thead>
            <tbody>
              {data.map((role) => (
                <tr key={role.id}>
                  <td>
                    {role.name}
                    {role.builtin ? <span className="muted"> (built-in)</span> : null}
                  </td>
                  <td className="wrap">{role.permissions.join(", ") || "none"}</td>
                  {can("roles:write") ? (
                    <td>
                      {role.builtin ? null : (
                        <ConfirmButton
                          label="Delete"
                          accessibleLabel={`Delete the role ${role.name}`}
                          question={`Delete the role "${role.name}"?`}
                          onConfirm={async () => {
                            await api.deleteRole(role.id);
                            await refresh();
                          }}
                        />
                      )}
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </QueryView>
      <Dialog open={creating} title="Add a role" onClose={() => setCreating(false)}>
        <form onSubmit={(event) => void submit(event)} noValidate>
          <Field label="Name" value={name} onChange={(e) => setName(e.target.value)} />
          <fieldset className="permissions">
            <legend>Permissions</legend>
            {(catalogue.data?.permissions ?? []).map((permission) => (
              <label key={permission} className="checkbox">
                <input
                  type="checkbox"
                  checked={chosen.has(permission)}
                  onChange={(e) => {
                    const next = new Set(chosen);
                    if (e.target.checked) next.add(permission);
                    else next.delete(permission);
                    setChosen(next);
                  }}
                />{" "}
                {permission}
              </label>
            ))}
          </fieldset>
          {error ? <p className="field-error" role="alert">{error}</p> : null}
          <div className="actions">
            <button type="submit" className="primary">
              Create role
            </button>
          </div>
        </form>
      </Dialog>
    </>
  );
}

export function MembersPage() {
  return (
    <section>
      <PageHeader title="Users, roles and invitations" />
      <Users />
      <Invitations />
      <Roles />
    </section>
  );
}
