import { useState, type FormEvent } from 'react';
import { api } from '../../api/client.js';
import { useAction } from '../../api/use-action.js';
import { FormEnd } from '../../components/form-end.js';
import { TextField } from '../../components/text-field.js';

/** The fields of POST /local-accounts; the password is never typed here (an app setting's name, or a one-time password after). */
const FIELDS = [
  { name: 'username', label: 'Username', autoComplete: 'off' },
  { name: 'email', label: 'Email', type: 'email', autoComplete: 'off' },
  { name: 'firstName', label: 'First name', autoComplete: 'off' },
  { name: 'lastName', label: 'Last name', autoComplete: 'off' },
] as const;

/** Creates a local account; each field the API refuses shows its message under it. */
export function CreateAccountForm({ onCreated }: { onCreated(username: string): void }) {
  const action = useAction();
  const [created, setCreated] = useState('');
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = Object.fromEntries([...new FormData(form)].filter(([, value]) => typeof value === 'string' && value.trim() !== ''));
    setCreated('');
    const done = await action.run(async () => {
      await api('POST', 'local-accounts', { body: data });
    });
    if (done) {
      form.reset();
      setCreated(String(data.username));
      onCreated(String(data.username));
    }
  }
  return (
    <form onSubmit={(event) => void submit(event)} aria-labelledby="create-account-title" noValidate>
      <h3 id="create-account-title">Add a local account</h3>
      <div className="form-grid">
        {FIELDS.map((field) => (
          <TextField key={field.name} id={`account-${field.name}`} required error={action.fieldError(field.name)} {...field} />
        ))}
        <TextField
          id="account-passwordSetting"
          name="passwordSetting"
          label="Initial password from app setting (optional)"
          hint="The name of the app setting that holds it; or leave empty and set a one-time password afterwards"
          error={action.fieldError('passwordSetting')}
          autoComplete="off"
        />
      </div>
      <FormEnd action={action} done={created ? `Local account ${created} created.` : ''} submit="Add account" />
    </form>
  );
}
