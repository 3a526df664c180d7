import type { OutputOf } from '../../../shared/admin/operations.js';
import { useApiGet } from '../api/use-api.js';
import { connectionLabel, LOCAL } from '../format.js';

type Connections = OutputOf<'connections.list'>;

interface ConnectionSelectProps {
  id: string;
  name: string;
  defaultValue: string;
  /** Offer local accounts and groups too (the audit trail records them under `local`). */
  withLocal?: boolean;
}

/**
 * A filter by connection: "Any" or one of the profiles (GET /connections). A value no profile has any more
 * (a deleted connection, still in the audit trail) stays selectable.
 */
export function ConnectionSelect({ id, name, defaultValue, withLocal = false }: ConnectionSelectProps) {
  const { loaded } = useApiGet<Connections>('connections');
  const names = loaded.state === 'ready' ? loaded.data.map((connection) => connection.name) : [];
  if (withLocal) names.push(LOCAL);
  if (defaultValue && !names.includes(defaultValue)) names.push(defaultValue);
  return (
    <div className="field">
      <label htmlFor={id}>Connection</label>
      {/* Keyed by the names, so the chosen value is selected once the options arrive. */}
      <select id={id} name={name} defaultValue={defaultValue} key={names.join('\n')}>
        <option value="">Any connection</option>
        {names.map((value) => (
          <option key={value} value={value}>
            {connectionLabel(value)}
          </option>
        ))}
      </select>
    </div>
  );
}
