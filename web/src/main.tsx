/** The dashboard: hash routes `#/` (runs) and `#/runs/<id>?at=<position>`; the token form on a 401. */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { getToken, setToken, tokenRequests } from './api.js';
import { RunPage } from './run.js';
import { RunsPage } from './runs.js';

interface Route {
  page: 'runs' | 'run';
  id?: string;
  at?: number | null;
}

function parse(hash: string): Route {
  const match = /^#\/runs\/([^?]+)(?:\?(.*))?$/.exec(hash);
  if (!match) return { page: 'runs' };
  const params = new URLSearchParams(match[2] ?? '');
  const at = Number(params.get('at'));
  return { page: 'run', id: decodeURIComponent(match[1]!), at: Number.isInteger(at) && at > 0 ? at : null };
}

function TokenForm(props: { message: string; onDone: () => void }) {
  const [value, setValue] = useState('');
  return (
    <form
      class="token"
      data-testid="token-form"
      onSubmit={(e) => {
        e.preventDefault();
        setToken(value.trim());
        props.onDone();
      }}
    >
      <p>{props.message}</p>
      <label>
        API token <input type="password" value={value} onInput={(e) => setValue((e.target as HTMLInputElement).value)} data-testid="token" autoFocus />
      </label>
      <button type="submit">Use token</button>
    </form>
  );
}

function App() {
  const [route, setRoute] = useState(parse(location.hash));
  const [asking, setAsking] = useState<string | null>(null);
  useEffect(() => {
    const onHash = () => setRoute(parse(location.hash));
    window.addEventListener('hashchange', onHash);
    const ask = (message: string) => setAsking(message);
    tokenRequests.add(ask);
    return () => {
      window.removeEventListener('hashchange', onHash);
      tokenRequests.delete(ask);
    };
  }, []);
  return (
    <>
      <header>
        <a href="#/">mctnas</a> <span class="muted">MCT-NAS experiment service</span>
        <span class="right">
          {getToken() ? (
            <button onClick={() => setToken(null)} class="link">
              forget token
            </button>
          ) : (
            <button onClick={() => setAsking('writes need the API token')} class="link" data-testid="set-token">
              set token
            </button>
          )}{' '}
          <a href="/docs">API</a>
        </span>
      </header>
      {asking !== null && <TokenForm message={asking} onDone={() => setAsking(null)} />}
      {route.page === 'run' && route.id ? <RunPage key={route.id} id={route.id} at={route.at ?? null} /> : <RunsPage />}
    </>
  );
}

render(<App />, document.getElementById('app')!);
