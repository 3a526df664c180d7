import { useId, useMemo, useState } from 'react';
import type { OutputOf } from '../../../../shared/admin/operations.js';
import { api, segment } from '../../api/client.js';
import { Problem } from '../../components/problem.js';
import { useAction } from '../../api/use-action.js';

type Connection = OutputOf<'connections.get'>;
type Group = OutputOf<'connections.availableGroups'>[number];

/** How many matches are listed at once: a tenant may have thousands of groups; the search narrows them. */
const SHOWN = 50;

/**
 * The groups an Entra or Okta connection syncs, picked by name from the directory's own list
 * (GET /api/connections/{name}/groups/available: it signs in with the profile's credential, so only when asked)
 * instead of typed as ids; saved into the profile's `selectedGroups` (PUT /api/connections/{name}).
 */
export function GroupPicker({ connection, onSaved }: { connection: Connection; onSaved: () => void }) {
  const id = useId();
  const profile = connection.profile;
  const saved = profile.type === 'entra' || profile.type === 'okta' ? profile.selectedGroups : [];
  const [groups, setGroups] = useState<Group[]>();
  const [selected, setSelected] = useState<string[]>(saved);
  const [search, setSearch] = useState('');
  const [status, setStatus] = useState('');
  const { busy, problem, run } = useAction();

  const matches = useMemo(() => {
    const words = search.trim().toLowerCase();
    return (groups ?? []).filter((group) => !words || group.name.toLowerCase().includes(words) || group.id.toLowerCase() === words);
  }, [groups, search]);
  const nameOf = (groupId: string) => groups?.find((group) => group.id === groupId)?.name ?? groupId;

  const load = () =>
    run(async () => {
      setStatus('Reading the directory’s groups…');
      const answer = await api<Group[]>('GET', `connections/${segment(connection.name)}/groups/available`);
      setGroups(answer);
      setStatus(`${answer.length} group(s) in the directory.`);
    });
  const save = () =>
    run(async () => {
      await api('PUT', `connections/${segment(connection.name)}`, { body: { ...profile, selectedGroups: selected } });
      setStatus(`Saved: ${selected.length} group(s) selected.`);
      onSaved();
    });
  const toggle = (groupId: string, on: boolean) => setSelected((current) => (on ? [...current, groupId] : current.filter((other) => other !== groupId)));

  return (
    <section aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Groups to sync</h2>
      <p>Only members of the selected groups sync; with none selected, no one does.</p>
      {selected.length ? (
        <ul>
          {selected.map((groupId) => (
            <li key={groupId}>
              {nameOf(groupId)} <span className="muted">({groupId})</span>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">No group selected.</p>
      )}
      {groups === undefined ? (
        <button type="button" onClick={() => void load()} disabled={busy}>
          Choose groups
        </button>
      ) : (
        <>
          <label htmlFor={`${id}-search`}>Search groups</label>
          <input id={`${id}-search`} type="search" value={search} onChange={(event) => setSearch(event.target.value)} />
          <fieldset className="group-choices">
            <legend>
              {matches.length > SHOWN ? `First ${SHOWN} of ${matches.length} matching groups: narrow the search` : `${matches.length} matching group(s)`}
            </legend>
            {matches.slice(0, SHOWN).map((group) => (
              <div key={group.id}>
                <input id={`${id}-${group.id}`} type="checkbox" checked={selected.includes(group.id)} onChange={(event) => toggle(group.id, event.target.checked)} />
                <label htmlFor={`${id}-${group.id}`} className="inline">
                  {group.name} <span className="muted">({group.kind})</span>
                </label>
              </div>
            ))}
          </fieldset>
          <button type="button" className="primary" onClick={() => void save()} disabled={busy}>
            Save selection
          </button>
        </>
      )}
      <p role="status">{status}</p>
      {problem ? <Problem problem={problem} /> : null}
    </section>
  );
}
