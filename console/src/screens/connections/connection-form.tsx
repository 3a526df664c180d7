import Form from '@rjsf/core';
import { ErrorSchemaBuilder, type ErrorSchema, type RJSFSchema } from '@rjsf/utils';
import { useEffect, useRef, useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router-dom';
import type { OutputOf } from '../../../../shared/admin/operations.js';
import { api, segment, type ApiProblem } from '../../api/client.js';
import { asProblem, useApiGet, type Loaded } from '../../api/use-api.js';
import { ChoiceWidget } from '../../components/choice-widget.js';
import { LoadState } from '../../components/load-state.js';
import { Problem } from '../../components/problem.js';
import { schemaValidator } from '../../components/schema-validator.js';
import { canChange, useSession } from '../../session.js';
import { CONNECTION_TYPES, ConnectionTypeChoices, isConnectionType, type ConnectionType } from './connection-types.js';
import { profileUiSchema } from './profile-form-ui.js';

type Schemas = OutputOf<'connections.schema'>;
type Connection = OutputOf<'connections.get'>;
type Profile = Record<string, unknown>;

/**
 * Add (`/connections/new?type=csv`) or edit (`/connections/:name/edit`) a connection profile: a form generated
 * from the profile's JSON Schema (GET /api/connection-schema), saved with PUT /api/connections/{name}. The API
 * checks the profile; what it refuses is shown at each field it names and in a summary.
 */
export function ConnectionForm() {
  const { name } = useParams();
  const [search] = useSearchParams();
  const session = useSession();
  const schemas = useApiGet<Schemas>('connection-schema');
  const existing = useApiGet<Connection>(name === undefined ? undefined : `connections/${segment(name)}`);
  const type = search.get('type');
  const title = name === undefined ? 'Add a connection' : `Edit ${name}`;

  if (session.state === 'ready' && !canChange(session)) {
    return (
      <>
        <h1>{title}</h1>
        <p className="notice">Only an admin (UserSync.Admin) changes connections; you can read them.</p>
      </>
    );
  }
  if (name === undefined && !isConnectionType(type)) {
    return (
      <>
        <h1>{title}</h1>
        <p>Which directory does it read?</p>
        <ConnectionTypeChoices />
      </>
    );
  }
  const loaded: Loaded<{ schemas: Schemas; connection?: Connection }> =
    schemas.loaded.state !== 'ready'
      ? schemas.loaded
      : name === undefined
        ? { state: 'ready', data: { schemas: schemas.loaded.data } }
        : existing.loaded.state !== 'ready'
          ? existing.loaded
          : { state: 'ready', data: { schemas: schemas.loaded.data, connection: existing.loaded.data } };
  return (
    <>
      <h1>{title}</h1>
      <LoadState loaded={loaded} what="form">
        {({ schemas, connection }) => {
          const profileType = (connection?.type ?? type) as ConnectionType;
          return <ProfileForm key={profileType} type={profileType} schema={schemas[profileType] as RJSFSchema} profile={connection?.profile as Profile | undefined} />;
        }}
      </LoadState>
    </>
  );
}

function ProfileForm({ type, schema, profile }: { type: ConnectionType; schema: RJSFSchema; profile?: Profile }) {
  const navigate = useNavigate();
  const editing = profile !== undefined;
  const [formData, setFormData] = useState<Profile>(profile ?? { type });
  const [problem, setProblem] = useState<ApiProblem>();
  const [busy, setBusy] = useState(false);
  const label = CONNECTION_TYPES.find((choice) => choice.type === type)?.label;

  const save = async (data: Profile) => {
    setBusy(true);
    setProblem(undefined);
    try {
      // The route's name is the connection's: an edit cannot rename it.
      const name = editing ? String(profile.name) : String(data.name ?? '');
      const saved = await api<OutputOf<'connections.put'>>('PUT', `connections/${segment(name)}`, { body: { ...data, type } });
      navigate(`/connections/${encodeURIComponent(saved.name)}`);
    } catch (error) {
      setProblem(asProblem(error));
      setBusy(false);
    }
  };

  return (
    <>
      <p className="muted">{label} connection. Secrets are never entered here: name the app settings that hold them.</p>
      {problem ? <SaveProblem problem={problem} /> : null}
      <Form
        schema={schema}
        uiSchema={profileUiSchema(type, editing)}
        formData={formData}
        validator={schemaValidator}
        widgets={WIDGETS}
        noValidate
        showErrorList={false}
        extraErrors={problem ? fieldErrors(problem) : undefined}
        disabled={busy}
        idPrefix="profile"
        onChange={(event) => setFormData(event.formData as Profile)}
        onSubmit={(event) => void save(event.formData as Profile)}
      />
      <p>
        <Link to={editing ? `/connections/${encodeURIComponent(String(profile.name))}` : '/connections'}>Back without saving</Link>
      </p>
    </>
  );
}

const WIDGETS = { choice: ChoiceWidget };

/** The API's field problems (`groups.pattern`: …) where the form shows each field's errors. */
function fieldErrors(problem: ApiProblem): ErrorSchema {
  const builder = new ErrorSchemaBuilder();
  for (const { field, message } of problem.fieldProblems) if (field !== '(profile)') builder.addErrors(message, field);
  return builder.ErrorSchema;
}

/** What the API refused, as a summary the admin is taken to (focus moves there: the form may be long). */
function SaveProblem({ problem }: { problem: ApiProblem }) {
  const summary = useRef<HTMLDivElement>(null);
  useEffect(() => summary.current?.focus(), [problem]);
  return (
    <div ref={summary} tabIndex={-1}>
      {problem.fieldProblems.length ? (
        <div role="alert" className="problem">
          <p className="problem-title">The connection was not saved: correct the fields below.</p>
          <ul>
            {problem.fieldProblems.map(({ field, message }) => (
              <li key={`${field}:${message}`}>
                <strong>{field}</strong>: {message}
              </li>
            ))}
          </ul>
        </div>
      ) : (
        <Problem problem={problem} title="The connection was not saved." />
      )}
    </div>
  );
}
