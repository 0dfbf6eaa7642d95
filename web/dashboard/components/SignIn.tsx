// Sign-in: e-mail and password against the station's Appwrite project when one is configured, the
// admin password otherwise (and always on request: the admin credentials open every panel).
import { useState } from 'preact/hooks';
import { Api, ApiFailure } from '../../shared/api.js';
import type { PublicConfig } from '../../shared/types.js';
import { adminSession, appwriteSignIn, type Session } from '../session.js';

export function SignIn({ config, notice, onSignedIn }: { config: PublicConfig; notice: string; onSignedIn: (s: Session) => void }) {
  const [useAdmin, setUseAdmin] = useState(!config.appwrite);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (): Promise<void> => {
    setBusy(true);
    setError('');
    try {
      const s = useAdmin || !config.appwrite ? adminSession(password) : await appwriteSignIn(config.appwrite, email, password);
      // Ask our API whether it accepts these credentials before showing a panel.
      try {
        await new Api(() => s.header()).get('/api/me');
      } catch (err) {
        await s.signOut();
        throw err;
      }
      onSignedIn(s);
    } catch (err) {
      setError(err instanceof ApiFailure ? err.message : err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="signin">
      <form
        class="card"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
        aria-labelledby="signin-title"
      >
        <h1 id="signin-title">{config.station.name}</h1>
        <p class="muted">Operator dashboard: sign in {useAdmin ? 'with the admin password' : 'with your station account'}.</p>
        {notice && <p class="warn-text">{notice}</p>}
        {!useAdmin && (
          <label>
            E-mail
            <input
              type="email"
              autocomplete="username"
              required
              value={email}
              onInput={(e) => setEmail(e.currentTarget.value)}
              data-testid="email"
            />
          </label>
        )}
        <label>
          {useAdmin ? 'Admin password' : 'Password'}
          <input
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
            data-testid="password"
          />
        </label>
        {error && (
          <p class="bad-text" role="alert" data-testid="signin-error">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy} data-testid="signin">
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        {config.appwrite && (
          <button type="button" class="link" onClick={() => setUseAdmin(!useAdmin)}>
            {useAdmin ? 'Sign in with a station account instead' : 'Use the admin password instead'}
          </button>
        )}
        <p class="muted small">
          <a href="/">Station page</a>
        </p>
      </form>
    </main>
  );
}
